import type { OpusDecoder } from 'opus-decoder';
import { InputDecodeError } from '../errors.ts';

/** Opus always decodes at 48 kHz here: it is the codec's native rate and what recorders send. */
export const OPUS_RATE_HZ = 48_000;

type OpusModule = typeof import('opus-decoder');
let opusModule: Promise<OpusModule> | undefined;

/**
 * Start loading the Opus WASM decoder (once per process), so that it is ready by the time a
 * session's first Opus packet arrives; a session calls this when it is set up for media-container.
 */
export function preloadOpus(): Promise<OpusModule> {
  if (!opusModule) {
    opusModule = import('opus-decoder').then(async (module) => {
      // Compiling happens on the first instance; the library keeps the compiled module after that.
      const warm = new module.OpusDecoder();
      await warm.ready;
      warm.free();
      return module;
    });
    opusModule.catch(() => {
      opusModule = undefined;
    });
  }
  return opusModule;
}

/** What an `OpusHead` packet (Ogg Opus, or WebM's CodecPrivate) says about the stream. */
export interface OpusHead {
  channels: number;
  preSkip: number;
}

export function parseOpusHead(packet: Uint8Array): OpusHead {
  const magic = 'OpusHead';
  for (let i = 0; i < magic.length; i++) {
    if (packet[i] !== magic.charCodeAt(i))
      throw new InputDecodeError('Opus input: the stream has no OpusHead');
  }
  if (packet.length < 19) throw new InputDecodeError('Opus input: OpusHead too short');
  const channels = packet[9]!;
  const preSkip = packet[10]! | (packet[11]! << 8);
  const family = packet[18]!;
  if (family !== 0 || channels < 1 || channels > 2) {
    throw new InputDecodeError(
      `Opus input: ${channels} channels (mapping family ${family}) are not supported; send mono or stereo`,
    );
  }
  return { channels, preSkip };
}

/**
 * Decodes the Opus packets of one stream to mono, synchronously once the WASM decoder is ready.
 * Packets that arrive before that (only at the very start of a process) wait in a queue and come
 * out with the next call.
 */
export class OpusPacketDecoder {
  #decoder: OpusDecoder | undefined;
  #ready = false;
  #failed: string | undefined;
  #queue: Uint8Array[] = [];

  constructor(head: OpusHead) {
    // Each decoder instance instantiates its WASM asynchronously, even with the module compiled.
    void preloadOpus()
      .then(async ({ OpusDecoder }) => {
        const decoder = new OpusDecoder({ channels: head.channels, preSkip: head.preSkip });
        this.#decoder = decoder;
        await decoder.ready;
        this.#ready = true;
      })
      .catch((error: unknown) => {
        this.#failed = error instanceof Error ? error.message : String(error);
      });
  }

  /** Decode `packets` (plus any queued ones) to mono samples at 48 kHz. */
  decode(packets: readonly Uint8Array[]): Float32Array {
    if (this.#failed) throw new InputDecodeError(`Opus input: the decoder failed to load (${this.#failed})`);
    if (!this.#ready || !this.#decoder) {
      for (const packet of packets) this.#queue.push(packet.slice());
      return new Float32Array(0);
    }
    const all = this.#queue.length > 0 ? [...this.#queue, ...packets] : [...packets];
    this.#queue = [];
    if (all.length === 0) return new Float32Array(0);
    const { channelData, samplesDecoded, errors } = this.#decoder.decodeFrames(all);
    if (errors.length > 0 && samplesDecoded === 0) {
      throw new InputDecodeError(`Opus input: ${errors[0]!.message}`);
    }
    return downmix(channelData, samplesDecoded);
  }
}

function downmix(channels: Float32Array[], length: number): Float32Array {
  if (channels.length === 1) return channels[0]!.slice(0, length);
  const out = new Float32Array(length);
  for (const channel of channels) {
    for (let i = 0; i < length; i++) out[i] = out[i]! + channel[i]! / channels.length;
  }
  return out;
}
