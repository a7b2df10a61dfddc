/**
 * What the agent says, ready to stream. `synthesizeSpeech` caches its renderings; on top of that
 * the encoded `audioStream` frames of fixed texts (the greeting) are cached per format and rate,
 * so two hundred sessions asking for the same greeting cost one synthesis and one encode.
 */
import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { encodeClip, synthesizeSpeech } from '../audio/index.ts';

/** Audio per `audioStream` message: small enough to stop quickly, large enough to stay cheap. */
const CHUNK_MS = 60;

/** One `audioStream` message as the bytes of its JSON text, and the audio time it carries. */
interface AudioChunk {
  /** `null` when the encoder had nothing to emit for this stretch of audio (it buffers). */
  frame: Buffer | null;
  ms: number;
}

/** A pull source of chunks; `null` once the stream is over. */
export interface ChunkSource {
  next(): AudioChunk | null;
}

export interface EncodedClip {
  chunks: readonly AudioChunk[];
  durationMs: number;
}

/** A small LRU of promises: a failed promise is forgotten so that the next caller retries. */
class PromiseCache<V> {
  readonly #limit: number;
  readonly #map = new Map<string, Promise<V>>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: string, make: () => Promise<V>): Promise<V> {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const promise = make();
    this.#map.set(key, promise);
    promise.catch(() => {
      if (this.#map.get(key) === promise) this.#map.delete(key);
    });
    while (this.#map.size > this.#limit) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
    return promise;
  }
}

const clipCache = new PromiseCache<EncodedClip>(32);

/** `text` spoken at `sampleRate`, mono float samples (a copy the caller owns). */
export function speechPcm(text: string, sampleRate: number): Promise<Float32Array> {
  return synthesizeSpeech(text, { sampleRate });
}

const warmed = new Set<string>();

/** Have `text` rendered at `sampleRate` ahead of need (once per text and rate). */
export function warmSpeech(text: string, sampleRate: number): void {
  const key = `${sampleRate}\u0000${text}`;
  if (warmed.has(key)) return;
  if (warmed.size > 64) warmed.clear();
  warmed.add(key);
  speechPcm(text, sampleRate).catch(() => warmed.delete(key));
}

/** `text` spoken, encoded and cut into `audioStream` frames. */
export function encodedSpeech(text: string, format: OutputFormat, sampleRate: number): Promise<EncodedClip> {
  return clipCache.get(`${format}\u0000${sampleRate}\u0000${text}`, async () => {
    const pcm = await speechPcm(text, sampleRate);
    const timed = await encodeClip(format, sampleRate, pcm, CHUNK_MS);
    const chunks = timed.map((chunk) => ({
      frame: chunk.bytes.length > 0 ? audioStreamFrame(chunk.bytes) : null,
      ms: chunk.ms,
    }));
    return { chunks, durationMs: (pcm.length / sampleRate) * 1000 };
  });
}

/** Chunks of a cached clip, in order. */
export function clipSource(clip: EncodedClip): ChunkSource {
  let index = 0;
  return {
    next: () => (index < clip.chunks.length ? (clip.chunks[index++] ?? null) : null),
  };
}

/**
 * `pcm` encoded and cut at the codec's frame or page boundaries, each chunk labelled with the
 * audio it carries: compressed encoders do not emit bytes in step with their input (libogg holds
 * whole pages back for a second or more), so the audio inside a chunk is what paces it. The
 * base64 and JSON of each chunk are made when it is sent, spreading that work over the reply.
 */
export async function createEncodingSource(
  pcm: Float32Array,
  format: OutputFormat,
  sampleRate: number,
): Promise<ChunkSource> {
  const timed = await encodeClip(format, sampleRate, pcm, CHUNK_MS);
  let index = 0;
  return {
    next(): AudioChunk | null {
      const chunk = timed[index++];
      if (!chunk) return null;
      return { frame: chunk.bytes.length > 0 ? audioStreamFrame(chunk.bytes) : null, ms: chunk.ms };
    },
  };
}

/**
 * The `audioStream` message for `bytes`, as UTF-8 bytes: built once, so a cached greeting is sent
 * to every session without re-encoding base64 or JSON. Node's base64 encoder is native and exact.
 */
function audioStreamFrame(bytes: Uint8Array): Buffer {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return Buffer.from(`{"type":"audioStream","data":"${base64}"}`, 'utf8');
}
