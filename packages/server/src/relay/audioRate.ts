/**
 * The audio rate cap: a client may send at most twice real time (a reconnect may flush a little
 * backlog; anything beyond that is a misbehaving or abusive client that would bill the integrator
 * for audio nobody spoke). What counts as audio, and its format, depends on the vendor's protocol
 * (dialects.ts); the bucket is the same for all.
 */

/** Media containers can hold anything; bound them by the largest a browser records: float32 stereo 48 kHz. */
export const MEDIA_CONTAINER_BYTES_PER_SECOND = 4 * 2 * 48_000;
const MAX_SAMPLE_RATE = 192_000;
const MAX_CHANNELS = 8;

/**
 * Bytes per second of uncompressed audio: `bytesPerSample` × rate × channels, with the rate (and
 * channel count) taken from the client's message when it is a sane positive number, else `fallbackRate`.
 */
export function pcmBytesPerSecond(
  bytesPerSample: number,
  sampleRate: unknown,
  fallbackRate: number,
  channels: unknown = 1,
): number {
  const rate =
    typeof sampleRate === 'number' && Number.isFinite(sampleRate) && sampleRate > 0
      ? Math.min(sampleRate, MAX_SAMPLE_RATE)
      : fallbackRate;
  const count =
    typeof channels === 'number' && Number.isInteger(channels) && channels > 0
      ? Math.min(channels, MAX_CHANNELS)
      : 1;
  return bytesPerSample * rate * count;
}

/**
 * Bytes per second of real-time audio for a setup's input. Compressed headerless encodings (flac,
 * opus, amr, speex, g729) are bounded by 16-bit PCM at the same rate, which they never exceed.
 */
export function realTimeBytesPerSecond(inputEncoding: unknown, inputSampleRate: unknown): number {
  const rate =
    typeof inputSampleRate === 'number' && Number.isFinite(inputSampleRate) && inputSampleRate > 0
      ? Math.min(inputSampleRate, MAX_SAMPLE_RATE)
      : undefined;
  if (inputEncoding === undefined || inputEncoding === 'media-container' || rate === undefined) {
    return MEDIA_CONTAINER_BYTES_PER_SECOND;
  }
  if (inputEncoding === 'mulaw') return rate;
  return 2 * rate;
}

/** Decoded size of a base64 string, from its length alone (no decoding). */
export function base64DecodedBytes(length: number, endsWithDoublePad: boolean, endsWithPad: boolean): number {
  const padding = endsWithDoublePad ? 2 : endsWithPad ? 1 : 0;
  return Math.max(0, Math.floor((length * 3) / 4) - padding);
}

/**
 * A token bucket over decoded audio bytes: it refills at `factor` × real time and holds
 * `burstSeconds` of that, so the long-run rate is capped while a short backlog still passes.
 */
export class AudioRateLimiter {
  #bytesPerSecond: number;
  #capacity: number;
  #tokens: number;
  #last: number;
  readonly #factor: number;
  readonly #burstSeconds: number;

  constructor(realTimeRate: number, factor = 2, burstSeconds = 1, now = performance.now()) {
    this.#factor = factor;
    this.#burstSeconds = burstSeconds;
    this.#bytesPerSecond = realTimeRate * factor;
    this.#capacity = this.#bytesPerSecond * burstSeconds;
    this.#tokens = this.#capacity;
    this.#last = now;
  }

  /** Changes the real-time rate (a setup arrived); keeps the current fill ratio. */
  setRealTimeRate(realTimeRate: number): void {
    const ratio = this.#capacity > 0 ? this.#tokens / this.#capacity : 1;
    this.#bytesPerSecond = realTimeRate * this.#factor;
    this.#capacity = this.#bytesPerSecond * this.#burstSeconds;
    this.#tokens = this.#capacity * ratio;
  }

  /** Takes `bytes` from the bucket; false when that would exceed the cap (the frame is dropped). */
  take(bytes: number, now = performance.now()): boolean {
    const elapsedSeconds = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsedSeconds * this.#bytesPerSecond);
    if (bytes > this.#tokens) return false;
    this.#tokens -= bytes;
    return true;
  }
}
