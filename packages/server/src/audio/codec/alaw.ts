/**
 * ITU-T G.711 A-law, as in the ITU's reference code (G.191 STL `g711.c`): the 16-bit sample's top
 * 13 bits are companded to 8 bits, and every even bit of the result is inverted (the `0x55` mask)
 * so that silence does not send long runs of zeros down a telephone line. OpenAI Realtime calls
 * it `audio/pcma` (`g711_alaw` in its beta), Deepgram `alaw`; all 8 kHz.
 */

/** The even-bit inversion every A-law byte carries on the wire. */
const ALAW_XOR = 0x55;

/** Encode one 16-bit sample (clamped, truncated; NaN counts as 0) to an A-law byte. */
export function alawEncodeSample(sample: number): number {
  let s = sample | 0;
  if (s > 32767) s = 32767;
  else if (s < -32768) s = -32768;
  // The reference folds negatives with a one's complement, as μ-law does.
  const sign = s >= 0 ? 0x80 : 0x00;
  const magnitude = (s >= 0 ? s : ~s) >> 3; // 13-bit magnitude, 0..4095
  let byte: number;
  if (magnitude < 32) {
    byte = magnitude >> 1; // segment 0: linear, 2 LSB per step
  } else {
    // The top bit of the magnitude picks the segment (1..7); the next four bits are the step.
    const segment = 27 - Math.clz32(magnitude);
    byte = (segment << 4) | ((magnitude >> segment) & 0x0f);
  }
  return (byte | sign) ^ ALAW_XOR;
}

/** Decode one A-law byte (only the low 8 bits are used) to a 16-bit sample in -32256..32256. */
export function alawDecodeSample(byte: number): number {
  const b = (byte & 0xff) ^ ALAW_XOR;
  const segment = (b >> 4) & 0x07;
  const step = b & 0x0f;
  // Reconstruct at the middle of the quantisation step, in 13-bit units, then scale to 16 bits.
  const magnitude = segment === 0 ? (step << 1) | 1 : ((step << 1) | 0x21) << (segment - 1);
  const value = magnitude << 3;
  return b & 0x80 ? value : 0 - value;
}

let decodeTable: Int16Array | undefined;
function getDecodeTable(): Int16Array {
  if (decodeTable === undefined) {
    decodeTable = new Int16Array(256);
    for (let i = 0; i < 256; i++) decodeTable[i] = alawDecodeSample(i);
  }
  return decodeTable;
}

/** 16-bit PCM to A-law, one byte per sample. */
export function alawEncode(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = alawEncodeSample(pcm[i]!);
  return out;
}

/** A-law bytes to 16-bit PCM. */
export function alawDecode(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  const table = getDecodeTable();
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
