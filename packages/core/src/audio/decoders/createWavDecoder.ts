import { concatBytes, sanitizeSamples } from './createRawFloat32Decoder.ts';
import { EMPTY_SAMPLES, type SyncStreamDecoder } from './types.ts';

interface WavFormat {
  /** 1 = integer PCM, 3 = IEEE float. */
  codec: 1 | 3;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/** The header can be cut anywhere; past this many bytes without a `data` chunk it is not a WAV header. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The protocol's `wav` output (16-bit PCM). Servers send either one RIFF header at the start and
 * bare samples afterwards, or a complete little WAV file per chunk; both work, as does a header
 * cut across chunks. Bytes of a partial sample frame wait for the next chunk. Anything without
 * a header is taken as mono 16-bit PCM at the session's rate. Multi-channel audio is mixed down.
 */
export function createWavDecoder(sampleRate: number): SyncStreamDecoder {
  const headerless: WavFormat = { codec: 1, channels: 1, sampleRate, bitsPerSample: 16 };
  let format: WavFormat = headerless;
  /** Bytes waiting: a partial header while `inHeader`, else a partial sample frame. */
  let pending = new Uint8Array(0);
  let inHeader = true;

  function decodeData(bytes: Uint8Array): Float32Array {
    const frameBytes = (format.channels * format.bitsPerSample) / 8;
    const joined = pending.length === 0 ? bytes : concatBytes(pending, bytes);
    const frames = Math.floor(joined.length / frameBytes);
    pending = joined.slice(frames * frameBytes);
    if (frames === 0) return EMPTY_SAMPLES;
    const view = new DataView(joined.buffer, joined.byteOffset, frames * frameBytes);
    const out = new Float32Array(frames);
    const { channels, bitsPerSample, codec } = format;
    const bytesPerSample = bitsPerSample / 8;
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const at = (f * channels + c) * bytesPerSample;
        if (codec === 3) sum += bitsPerSample === 64 ? view.getFloat64(at, true) : view.getFloat32(at, true);
        else if (bitsPerSample === 16) sum += view.getInt16(at, true) / 32768;
        else if (bitsPerSample === 8) sum += (view.getUint8(at) - 128) / 128;
        else if (bitsPerSample === 24) {
          const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
          sum += v / 8388608;
        } else sum += view.getInt32(at, true) / 2147483648;
      }
      out[f] = sum / channels;
    }
    // IEEE float data may hold NaN, ±Infinity or values far beyond full scale.
    return codec === 3 ? sanitizeSamples(out) : out;
  }

  /** Returns the offset just past the `data` chunk header, null when more bytes are needed, -1 when not WAV. */
  function parseHeader(bytes: Uint8Array): number | null {
    if (bytes.length < 12) return startsLikeRiff(bytes) ? null : -1;
    if (ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') return -1;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 12;
    let parsed: WavFormat | undefined;
    while (offset + 8 <= bytes.length) {
      const id = ascii(bytes, offset);
      const size = view.getUint32(offset + 4, true);
      if (id === 'data') {
        if (parsed) format = parsed;
        return offset + 8;
      }
      if (offset + 8 + size > bytes.length) return bytes.length > MAX_HEADER_BYTES ? -1 : null;
      if (id === 'fmt ' && size >= 16) {
        let codec = view.getUint16(offset + 8, true);
        // WAVE_FORMAT_EXTENSIBLE: the real codec is the first two bytes of the sub-format GUID.
        if (codec === 0xfffe && size >= 40) codec = view.getUint16(offset + 32, true);
        const channels = view.getUint16(offset + 10, true);
        const bits = view.getUint16(offset + 22, true);
        if (
          (codec === 1 && [8, 16, 24, 32].includes(bits)) ||
          (codec === 3 && (bits === 32 || bits === 64))
        ) {
          if (channels >= 1) {
            parsed = { codec, channels, sampleRate: view.getUint32(offset + 12, true), bitsPerSample: bits };
          }
        } else {
          throw new RangeError(`unsupported WAV encoding (format ${codec}, ${bits} bits)`);
        }
      }
      offset += 8 + size + (size % 2);
    }
    return bytes.length > MAX_HEADER_BYTES ? -1 : null;
  }

  return {
    decode(bytes) {
      // A chunk that starts on a sample boundary with "RIFF....WAVE" is a new little file.
      if (
        !inHeader &&
        pending.length === 0 &&
        bytes.length >= 12 &&
        ascii(bytes, 0) === 'RIFF' &&
        ascii(bytes, 8) === 'WAVE'
      ) {
        inHeader = true;
      }
      if (inHeader) {
        const joined = pending.length === 0 ? bytes : concatBytes(pending, bytes);
        const dataStart = parseHeader(joined);
        if (dataStart === null) {
          pending = joined.slice();
          return { samples: EMPTY_SAMPLES, sampleRate: format.sampleRate };
        }
        inHeader = false;
        pending = new Uint8Array(0);
        if (dataStart === -1) {
          format = headerless;
          return { samples: decodeData(joined), sampleRate: format.sampleRate };
        }
        return { samples: decodeData(joined.subarray(dataStart)), sampleRate: format.sampleRate };
      }
      return { samples: decodeData(bytes), sampleRate: format.sampleRate };
    },
    flush() {
      pending = new Uint8Array(0);
      return { samples: EMPTY_SAMPLES, sampleRate: format.sampleRate };
    },
    reset() {
      pending = new Uint8Array(0);
      inHeader = true;
      format = headerless;
    },
    close() {
      pending = new Uint8Array(0);
    },
  };
}

function ascii(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(
    bytes[offset] ?? 0,
    bytes[offset + 1] ?? 0,
    bytes[offset + 2] ?? 0,
    bytes[offset + 3] ?? 0,
  );
}

function startsLikeRiff(bytes: Uint8Array): boolean {
  const riff = 'RIFF';
  for (let i = 0; i < Math.min(4, bytes.length); i++) if (bytes[i] !== riff.charCodeAt(i)) return false;
  return true;
}
