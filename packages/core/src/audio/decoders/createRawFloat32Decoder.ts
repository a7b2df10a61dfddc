import { bytesToFloat32 } from '../../codec/pcm16.ts';
import { EMPTY_SAMPLES, type SyncStreamDecoder } from './types.ts';

/**
 * The protocol's `raw` output: headerless little-endian float32, mono. Chunks may split a
 * sample; up to three bytes wait for the next chunk. Every sample is sanitised (see
 * {@link sanitizeSamples}): these are arbitrary bytes from the network, and float32 bit patterns
 * include NaN and ±Infinity.
 */
export function createRawFloat32Decoder(sampleRate: number): SyncStreamDecoder {
  let carry = new Uint8Array(0);
  return {
    decode(bytes) {
      const joined = carry.length === 0 ? bytes : concatBytes(carry, bytes);
      const whole = joined.length - (joined.length % 4);
      carry = joined.slice(whole);
      const samples =
        whole === 0 ? EMPTY_SAMPLES : sanitizeSamples(bytesToFloat32(joined.subarray(0, whole)));
      return { samples, sampleRate };
    },
    flush() {
      carry = new Uint8Array(0);
      return { samples: EMPTY_SAMPLES, sampleRate };
    },
    reset() {
      carry = new Uint8Array(0);
    },
    close() {
      carry = new Uint8Array(0);
    },
  };
}

/**
 * In place: NaN and ±Infinity become 0 and everything else is clamped to [-1, 1]. One NaN would
 * poison every filter after it (the resampler's history, the worklet's fade and level meters)
 * for the rest of the call, and an absurd value would be a full-scale click at best.
 */
export function sanitizeSamples(samples: Float32Array): Float32Array {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // Comparisons are false for NaN, so it falls through to 0.
    if (s > 1) samples[i] = 1;
    else if (s < -1) samples[i] = -1;
    else if (!(s >= -1)) samples[i] = 0;
  }
  return samples;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
