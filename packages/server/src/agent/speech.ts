/**
 * What the agent says, ready to stream. `synthesizeSpeech` caches its renderings; on top of that
 * the encoded chunks of fixed texts (the greeting) are cached per format, rate and voice, so two
 * hundred sessions asking for the same greeting cost one synthesis and one encode. Each chunk
 * keeps its base64 (and whatever frame a dialect builds from it alone) once made, so a cached
 * greeting is not re-encoded for every session either.
 */
import { type AgentAudioFormat, encodeClip, synthesizeSpeech } from '../audio/index.ts';

/** Audio per chunk sent: small enough to stop quickly, large enough to stay cheap. */
const CHUNK_MS = 60;

/** How the agent's speech goes out on a connection: the codec, its rate and the voice. */
export interface SpeechOutput {
  format: AgentAudioFormat;
  sampleRate: number;
  /** A mespeak voice (`en/en-us`, `en/en-rp`, …); `undefined`: the default. */
  voice?: string;
}

/** One stretch of encoded agent audio, and the audio time it carries. */
export class AudioChunk {
  readonly bytes: Uint8Array;
  readonly ms: number;
  #base64: string | undefined;
  #frames: Map<string, unknown> | undefined;

  constructor(bytes: Uint8Array, ms: number) {
    this.bytes = bytes;
    this.ms = ms;
  }

  /** The bytes in base64, made once. Node's base64 encoder is native and exact. */
  base64(): string {
    this.#base64 ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString(
      'base64',
    );
    return this.#base64;
  }

  /**
   * A frame that depends on nothing but this chunk (PlayAI's `audioStream`), built once per
   * `key` and kept with the chunk.
   */
  frame<T>(key: string, make: (chunk: AudioChunk) => T): T {
    this.#frames ??= new Map();
    if (this.#frames.has(key)) return this.#frames.get(key) as T;
    const frame = make(this);
    this.#frames.set(key, frame);
    return frame;
  }
}

/** A pull source of chunks; `null` once the stream is over. A chunk with no bytes is a pause the encoder held back. */
export interface ChunkSource {
  next(): AudioChunk | null;
  /** The audio time of the whole stream, in ms. */
  readonly durationMs: number;
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
export function speechPcm(text: string, sampleRate: number, voice?: string): Promise<Float32Array> {
  return synthesizeSpeech(text, voice === undefined ? { sampleRate } : { sampleRate, voice });
}

const warmed = new Set<string>();

/** Have `text` rendered at `sampleRate` ahead of need (once per text, rate and voice). */
export function warmSpeech(text: string, sampleRate: number, voice?: string): void {
  const key = `${sampleRate}\u0000${voice ?? ''}\u0000${text}`;
  if (warmed.has(key)) return;
  if (warmed.size > 64) warmed.clear();
  warmed.add(key);
  speechPcm(text, sampleRate, voice).catch(() => warmed.delete(key));
}

/** `text` spoken, encoded and cut into chunks (cached). */
export function encodedSpeech(text: string, output: SpeechOutput): Promise<EncodedClip> {
  const { format, sampleRate, voice } = output;
  return clipCache.get(`${format}\u0000${sampleRate}\u0000${voice ?? ''}\u0000${text}`, async () => {
    const pcm = await speechPcm(text, sampleRate, voice);
    const timed = await encodeClip(format, sampleRate, pcm, CHUNK_MS);
    const chunks = timed.map((chunk) => new AudioChunk(chunk.bytes, chunk.ms));
    return { chunks, durationMs: (pcm.length / sampleRate) * 1000 };
  });
}

/** Chunks of a cached clip, in order. */
export function clipSource(clip: EncodedClip): ChunkSource {
  let index = 0;
  return {
    next: () => (index < clip.chunks.length ? (clip.chunks[index++] ?? null) : null),
    durationMs: clip.durationMs,
  };
}

/**
 * `pcm` encoded and cut at the codec's frame or page boundaries, each chunk labelled with the
 * audio it carries: compressed encoders do not emit bytes in step with their input (libogg holds
 * whole pages back for a second or more), so the audio inside a chunk is what paces it. The
 * base64 and frame of each chunk are made when it is sent, spreading that work over the reply.
 */
export async function createEncodingSource(
  pcm: Float32Array,
  format: AgentAudioFormat,
  sampleRate: number,
): Promise<ChunkSource> {
  const timed = await encodeClip(format, sampleRate, pcm, CHUNK_MS);
  let index = 0;
  return {
    durationMs: (pcm.length / sampleRate) * 1000,
    next(): AudioChunk | null {
      const chunk = timed[index++];
      return chunk ? new AudioChunk(chunk.bytes, chunk.ms) : null;
    },
  };
}
