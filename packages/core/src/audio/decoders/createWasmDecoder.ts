import { type DecodedAudio, EMPTY_SAMPLES, type StreamDecoder } from './types.ts';

export type CompressedFormat = 'mp3' | 'ogg' | 'flac';

interface WasmDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
}

/** What mpg123-decoder and @wasm-audio-decoders/{ogg-vorbis,flac} have in common. */
interface WasmDecoder {
  ready: Promise<void>;
  decode(bytes: Uint8Array): WasmDecoded | Promise<WasmDecoded>;
  flush?: () => Promise<WasmDecoded>;
  reset(): Promise<void>;
  free(): void | Promise<void>;
}

/** How long a Web Worker decoder may take to come up before we decode on the main thread instead. */
const WORKER_READY_TIMEOUT_MS = 3000;

/**
 * Each decoder is its own dynamic `import()`, so a bundler splits it into a chunk that is fetched
 * only when a session actually asks for that format (the mp3 one is ~70 KB of WASM).
 */
async function construct(format: CompressedFormat, inWorker: boolean): Promise<WasmDecoder> {
  switch (format) {
    case 'mp3': {
      const { MPEGDecoder, MPEGDecoderWebWorker } = await import('mpg123-decoder');
      return inWorker ? new MPEGDecoderWebWorker() : new MPEGDecoder();
    }
    case 'ogg': {
      const { OggVorbisDecoder, OggVorbisDecoderWebWorker } = await import('@wasm-audio-decoders/ogg-vorbis');
      return inWorker ? new OggVorbisDecoderWebWorker() : new OggVorbisDecoder();
    }
    case 'flac': {
      const { FLACDecoder, FLACDecoderWebWorker } = await import('@wasm-audio-decoders/flac');
      return inWorker ? new FLACDecoderWebWorker() : new FLACDecoder();
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Load a decoder: in a Web Worker when the page allows one (decoding stays off the main thread
 * that also runs React), else on the main thread (a Content-Security-Policy without `blob:`
 * workers, or no `Worker` at all).
 */
async function loadDecoder(format: CompressedFormat, preferWorker: boolean): Promise<WasmDecoder> {
  if (preferWorker && typeof Worker !== 'undefined') {
    let decoder: WasmDecoder | undefined;
    try {
      decoder = await construct(format, true);
      await withTimeout(decoder.ready, WORKER_READY_TIMEOUT_MS);
      return decoder;
    } catch {
      // The worker never came up (a Content-Security-Policy without `blob:` workers blocks it).
      // Its free() would post to it and wait for an answer that never comes, so the decoder would
      // never load: end the worker instead, and decode on the main thread.
      try {
        (decoder as { terminate?: () => void } | undefined)?.terminate?.();
      } catch {
        // Nothing to end.
      }
    }
  }
  const decoder = await construct(format, false);
  await decoder.ready;
  return decoder;
}

function mixDown(decoded: WasmDecoded, fallbackRate: number): DecodedAudio {
  const { channelData, samplesDecoded } = decoded;
  // With nothing decoded, the Vorbis decoder's other fields are not set (measured: a sample
  // rate of 36032 and thousands of "channels" for a call that only took header pages).
  if (samplesDecoded === 0 || channelData.length === 0)
    return { samples: EMPTY_SAMPLES, sampleRate: fallbackRate };
  const sampleRate = decoded.sampleRate || fallbackRate;
  if (channelData.length === 1) {
    const only = channelData[0]!;
    return { samples: only.length === samplesDecoded ? only : only.slice(0, samplesDecoded), sampleRate };
  }
  const out = new Float32Array(samplesDecoded);
  for (const channel of channelData)
    for (let i = 0; i < samplesDecoded; i++) out[i]! += (channel[i] ?? 0) / channelData.length;
  return { samples: out, sampleRate };
}

export interface WasmStreamDecoder extends StreamDecoder {
  decode(bytes: Uint8Array): Promise<DecodedAudio>;
  flush(): Promise<DecodedAudio>;
  reset(): Promise<void>;
  /** Resolves once the WASM module is compiled and the decoder can take data. */
  readonly ready: Promise<void>;
}

/**
 * A streaming mp3 / Ogg Vorbis / FLAC decoder over the maintained WASM decoders. Loading starts
 * at once (so it overlaps the wait for the agent's first chunk); calls wait for it.
 */
export function createWasmDecoder(
  format: CompressedFormat,
  sampleRate: number,
  options: { worker?: boolean } = {},
): WasmStreamDecoder {
  // The Ogg Vorbis worker stringifies its decoder without the codec-parser it depends on and
  // never answers a decode, so Vorbis always decodes on the main thread (it is cheap: a few ms
  // per second of speech). mp3 and FLAC run in a worker when the page allows one.
  const loading = loadDecoder(format, (options.worker ?? true) && format !== 'ogg');
  let closed = false;
  // Never an unhandled rejection: a failed load surfaces through decode().
  loading.catch(() => {});
  return {
    ready: loading.then(() => undefined),
    async decode(bytes) {
      const decoder = await loading;
      return mixDown(await decoder.decode(bytes), sampleRate);
    },
    async flush() {
      const decoder = await loading;
      if (!decoder.flush) return { samples: EMPTY_SAMPLES, sampleRate };
      return mixDown(await decoder.flush(), sampleRate);
    },
    async reset() {
      const decoder = await loading;
      await decoder.reset();
    },
    close() {
      if (closed) return;
      closed = true;
      loading.then(
        (decoder) => decoder.free(),
        () => {},
      );
    },
  };
}
