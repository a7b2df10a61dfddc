import { InputDecodeError } from '../errors.ts';
import type { DecodedInput } from '../types.ts';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  float: boolean;
  blockAlign: number;
}

/** Largest header we wait for before giving up on finding the `data` chunk. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * A WAV stream arriving in pieces: the header (which may itself be split) fixes the format, then
 * every chunk is audio. Bytes that end mid-frame are kept for the next chunk, as a recorder that
 * cuts its output at arbitrary byte counts needs. A data size of 0 or 0xFFFFFFFF (streaming
 * writers' "unknown") means "until the stream ends"; otherwise bytes past it are ignored.
 */
export class WavInput {
  #header: Uint8Array | undefined = new Uint8Array(0);
  #format: WavFormat | undefined;
  #carry = new Uint8Array(0);
  #remaining = Number.POSITIVE_INFINITY;

  get sampleRate(): number {
    return this.#format?.sampleRate ?? 0;
  }

  decode(bytes: Uint8Array): DecodedInput {
    let data = bytes;
    if (this.#header) {
      const header = concat(this.#header, bytes);
      const parsed = parseWavHeader(header);
      if (parsed === 'incomplete') {
        if (header.length > MAX_HEADER_BYTES) {
          this.#header = new Uint8Array(0);
          throw new InputDecodeError(`WAV input: no "data" chunk in the first ${MAX_HEADER_BYTES} bytes`);
        }
        this.#header = header;
        return { samples: new Float32Array(0), sampleRate: 0 };
      }
      this.#header = undefined;
      this.#format = parsed.format;
      if (parsed.dataBytes !== 0 && parsed.dataBytes !== 0xffff_ffff) this.#remaining = parsed.dataBytes;
      data = header.subarray(parsed.dataOffset);
    }
    const format = this.#format!;
    if (data.length > this.#remaining) data = data.subarray(0, this.#remaining);
    this.#remaining -= data.length;
    const all = concat(this.#carry, data);
    const whole = all.length - (all.length % format.blockAlign);
    this.#carry = all.slice(whole);
    return { samples: toMono(all.subarray(0, whole), format), sampleRate: format.sampleRate };
  }
}

type ParsedHeader = { format: WavFormat; dataOffset: number; dataBytes: number };

function parseWavHeader(bytes: Uint8Array): ParsedHeader | 'incomplete' {
  if (bytes.length < 12) return 'incomplete';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (fourCc(bytes, 0) !== 'RIFF' || fourCc(bytes, 8) !== 'WAVE') {
    throw new InputDecodeError('WAV input: a RIFF chunk must hold WAVE audio');
  }
  let offset = 12;
  let format: WavFormat | undefined;
  while (offset + 8 <= bytes.length) {
    const id = fourCc(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) throw new InputDecodeError('WAV input: the "data" chunk comes before any "fmt " chunk');
      return { format, dataOffset: body, dataBytes: size };
    }
    if (body + size > bytes.length) return 'incomplete';
    if (id === 'fmt ') format = parseFormat(view, body, size);
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  return 'incomplete';
}

function parseFormat(view: DataView, offset: number, size: number): WavFormat {
  if (size < 16) throw new InputDecodeError('WAV input: "fmt " chunk too short');
  let tag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 26) tag = view.getUint16(offset + 24, true); // sub-format GUID's first two bytes
  const float = tag === WAVE_FORMAT_IEEE_FLOAT;
  if (tag !== WAVE_FORMAT_PCM && !float) {
    throw new InputDecodeError(`WAV input: format tag ${tag} is not PCM or float; send PCM WAV`);
  }
  const validBits = float ? [32, 64] : [8, 16, 24, 32];
  if (!validBits.includes(bitsPerSample)) {
    throw new InputDecodeError(`WAV input: ${bitsPerSample}-bit ${float ? 'float' : 'PCM'} is not supported`);
  }
  if (channels < 1 || sampleRate < 1 || blockAlign !== channels * (bitsPerSample / 8)) {
    throw new InputDecodeError(
      `WAV input: inconsistent format (${channels} channels, ${sampleRate} Hz, block align ${blockAlign})`,
    );
  }
  return { sampleRate, channels, bitsPerSample, float, blockAlign };
}

function fourCc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/** Whole frames to mono float (channels averaged). */
function toMono(bytes: Uint8Array, format: WavFormat): Float32Array {
  const frames = bytes.length / format.blockAlign;
  const out = new Float32Array(frames);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bytesPerSample = format.bitsPerSample / 8;
  const read = sampleReader(format);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    const base = frame * format.blockAlign;
    for (let ch = 0; ch < format.channels; ch++) sum += read(view, base + ch * bytesPerSample);
    out[frame] = sum / format.channels;
  }
  return out;
}

function sampleReader(format: WavFormat): (view: DataView, offset: number) => number {
  if (format.float) {
    // A float WAV may hold NaN or huge values; nothing downstream (VAD, echo, encoders) wants them.
    const clean = (s: number) => (s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s);
    return format.bitsPerSample === 32
      ? (v, o) => clean(v.getFloat32(o, true))
      : (v, o) => clean(v.getFloat64(o, true));
  }
  switch (format.bitsPerSample) {
    case 8:
      return (v, o) => (v.getUint8(o) - 128) / 128; // 8-bit WAV is unsigned
    case 16:
      return (v, o) => v.getInt16(o, true) / 32768;
    case 24:
      return (v, o) => (v.getUint8(o) | (v.getUint8(o + 1) << 8) | (v.getInt8(o + 2) << 16)) / 8388608;
    default:
      return (v, o) => v.getInt32(o, true) / 2147483648;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
