/**
 * ITU-T G.711 μ-law, bit-exact with the ITU's reference code (G.191 STL `g711.c`): the 16-bit
 * sample's top 14 bits are companded to 8 bits. This is the telephony codec the talk protocol
 * calls `mulaw`, used for `audioIn` (input encoding) and `audioStream` (output format).
 *
 * Negative samples are folded with a one's complement (`~x`), as the reference does, so that
 * -1..-4 encode to "negative zero" (0x7F) and the quantiser is symmetric around -0.5 LSB.
 */

/** Bias added to the 14-bit magnitude so that segment boundaries fall on powers of two. */
const MULAW_BIAS = 33;
/** Largest biased 14-bit magnitude. */
const MULAW_CLIP = 0x1fff;

/**
 * Encode one 16-bit sample (an integer in -32768..32767; other numbers are truncated and
 * clamped, NaN counts as 0) to a μ-law byte.
 */
export function mulawEncodeSample(sample: number): number {
  let s = sample | 0;
  if (s > 32767) s = 32767;
  else if (s < -32768) s = -32768;
  const sign = s < 0 ? 0x00 : 0x80;
  let magnitude = ((s < 0 ? ~s : s) >> 2) + MULAW_BIAS;
  if (magnitude > MULAW_CLIP) magnitude = MULAW_CLIP;
  // magnitude >= 33, so its top bit is bit 5..12: segment 0..7.
  const segment = 26 - Math.clz32(magnitude);
  const step = (magnitude >> (segment + 1)) & 0x0f;
  return (~((segment << 4) | step) & 0x7f) | sign;
}

/** Decode one μ-law byte (0..255; only the low 8 bits are used) to a 16-bit sample in -32124..32124. */
export function mulawDecodeSample(byte: number): number {
  const b = ~byte & 0xff;
  const segment = (b >> 4) & 0x07;
  const step = b & 0x0f;
  const magnitude = (((step << 1) | 0x21) << (segment + 2)) - MULAW_BIAS * 4;
  // `0 - m` rather than `-m` so that code 0x7F decodes to +0, not -0.
  return b & 0x80 ? 0 - magnitude : magnitude;
}

/** Every byte's decoded sample, built on first use (keeps the module free of import-time work). */
let decodeTable: Int16Array | undefined;
function getDecodeTable(): Int16Array {
  if (decodeTable === undefined) {
    decodeTable = new Int16Array(256);
    for (let i = 0; i < 256; i++) decodeTable[i] = mulawDecodeSample(i);
  }
  return decodeTable;
}

/**
 * Encode 16-bit PCM to μ-law, one byte per sample. Pass `out` (at least `pcm.length` long) to
 * encode without allocating; the returned array is then a view of its first `pcm.length` bytes.
 */
export function mulawEncode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  let target: Uint8Array;
  if (out === undefined) target = new Uint8Array(pcm.length);
  else if (out.length < pcm.length) {
    throw new RangeError(`mulawEncode: output holds ${out.length} bytes but ${pcm.length} are needed`);
  } else target = out.length === pcm.length ? out : out.subarray(0, pcm.length);
  for (let i = 0; i < pcm.length; i++) target[i] = mulawEncodeSample(pcm[i]!);
  return target;
}

/**
 * Decode μ-law bytes to 16-bit PCM. Pass `out` (at least `bytes.length` long) to decode without
 * allocating, as an audio thread must; the returned array is then a view of its first
 * `bytes.length` samples.
 */
export function mulawDecode(bytes: Uint8Array, out?: Int16Array): Int16Array {
  let target: Int16Array;
  if (out === undefined) target = new Int16Array(bytes.length);
  else if (out.length < bytes.length) {
    throw new RangeError(`mulawDecode: output holds ${out.length} samples but ${bytes.length} are needed`);
  } else target = out.length === bytes.length ? out : out.subarray(0, bytes.length);
  const table = getDecodeTable();
  for (let i = 0; i < bytes.length; i++) target[i] = table[bytes[i]!]!;
  return target;
}
