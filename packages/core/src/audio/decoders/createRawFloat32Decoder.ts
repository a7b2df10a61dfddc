import { bytesToFloat32 } from '../../codec/pcm16.ts';
import { EMPTY_SAMPLES, type SyncStreamDecoder } from './types.ts';

/**
 * The protocol's `raw` output: headerless little-endian float32, mono. Chunks may split a
 * sample; up to three bytes wait for the next chunk.
 */
export function createRawFloat32Decoder(sampleRate: number): SyncStreamDecoder {
  let carry = new Uint8Array(0);
  return {
    decode(bytes) {
      const joined = carry.length === 0 ? bytes : concatBytes(carry, bytes);
      const whole = joined.length - (joined.length % 4);
      carry = joined.slice(whole);
      const samples = whole === 0 ? EMPTY_SAMPLES : bytesToFloat32(joined.subarray(0, whole));
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

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
