import { bytesToPcm16, pcm16ToFloat } from '../../codec/pcm16.ts';
import { concatBytes } from './createRawFloat32Decoder.ts';
import { EMPTY_SAMPLES, type SyncStreamDecoder } from './types.ts';

const EMPTY_BYTES = new Uint8Array(0);

/**
 * Headerless 16-bit little-endian mono PCM (`pcm16`: what OpenAI, ElevenLabs, Gemini and
 * Deepgram send). A chunk may end in the middle of a sample; its odd byte waits for the next.
 */
export function createPcm16Decoder(sampleRate: number): SyncStreamDecoder {
  let carry: Uint8Array = EMPTY_BYTES;
  return {
    decode(bytes) {
      const joined = carry.length === 0 ? bytes : concatBytes(carry, bytes);
      const whole = joined.length - (joined.length % 2);
      carry = whole === joined.length ? EMPTY_BYTES : joined.slice(whole);
      const samples = whole === 0 ? EMPTY_SAMPLES : pcm16ToFloat(bytesToPcm16(joined.subarray(0, whole)));
      return { samples, sampleRate };
    },
    flush() {
      carry = EMPTY_BYTES;
      return { samples: EMPTY_SAMPLES, sampleRate };
    },
    reset() {
      carry = EMPTY_BYTES;
    },
    close() {
      carry = EMPTY_BYTES;
    },
  };
}
