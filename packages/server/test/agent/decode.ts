/**
 * Decode what the agent streamed with real decoders (mpg123, libvorbis, libFLAC through the
 * wasm-audio-decoders packages; WAV, float32 and G.711 mu-law by their specifications), and
 * measure it.
 */

import { mulawDecode, pcm16ToFloat } from '@voicewire/core';
import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import { fft } from '../../../../testing/audio.ts';

export interface Decoded {
  samples: Float32Array;
  sampleRate: number;
}

export async function decodeOutput(
  format: OutputFormat,
  bytes: Uint8Array,
  sampleRate: number,
): Promise<Decoded> {
  switch (format) {
    case 'raw': {
      if (bytes.length % 4 !== 0)
        throw new Error(`raw float32 stream of ${bytes.length} bytes is not whole samples`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const samples = new Float32Array(bytes.length / 4);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getFloat32(i * 4, true);
      return { samples, sampleRate };
    }
    case 'mulaw':
      return { samples: pcm16ToFloat(mulawDecode(bytes)), sampleRate };
    case 'wav':
      return decodeWav(bytes);
    case 'mp3': {
      const decoder = new MPEGDecoder();
      await decoder.ready;
      try {
        const out = decoder.decode(bytes);
        if (out.errors.length > 0) throw new Error(`mpg123: ${out.errors[0]?.message}`);
        return { samples: out.channelData[0] ?? new Float32Array(0), sampleRate: out.sampleRate };
      } finally {
        decoder.free();
      }
    }
    case 'ogg': {
      const decoder = new OggVorbisDecoder();
      await decoder.ready;
      try {
        const out = await decoder.decodeFile(bytes);
        if (out.errors.length > 0) throw new Error(`vorbis: ${out.errors[0]?.message}`);
        return { samples: out.channelData[0] ?? new Float32Array(0), sampleRate: out.sampleRate };
      } finally {
        decoder.free();
      }
    }
    case 'flac': {
      const decoder = new FLACDecoder();
      await decoder.ready;
      try {
        const out = await decoder.decodeFile(bytes);
        if (out.errors.length > 0) throw new Error(`flac: ${out.errors[0]?.message}`);
        return { samples: out.channelData[0] ?? new Float32Array(0), sampleRate: out.sampleRate };
      } finally {
        decoder.free();
      }
    }
  }
}

/** A RIFF/WAVE reader that insists on what the protocol promises (docs/protocol.md): 16-bit PCM, mono. */
export function decodeWav(bytes: Uint8Array): Decoded {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new Error('not a RIFF/WAVE stream');
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = ascii(offset);
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ') {
      const format = view.getUint16(offset + 8, true);
      const channels = view.getUint16(offset + 10, true);
      sampleRate = view.getUint32(offset + 12, true);
      const bits = view.getUint16(offset + 22, true);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(
          `WAV is format ${format}, ${channels} channels, ${bits} bits; expected PCM mono 16-bit`,
        );
      }
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error('WAV data before fmt');
      // A streamed WAV cannot know its length: the data runs to the end of the stream.
      const start = offset + 8;
      const count = Math.floor((bytes.length - start) / 2);
      const samples = new Float32Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(start + i * 2, true) / 32768;
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('WAV without a data chunk');
}

/** RMS of `samples` in dBFS. */
export function levelDb(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return 10 * Math.log10(sum / Math.max(1, samples.length) + 1e-20);
}

/**
 * The share of the signal's energy between `lowHz` and `highHz` (a DFT over the whole signal):
 * speech keeps most of its energy in 200–4000 Hz; codec garbage, clicks or silence do not.
 */
export function bandEnergyShare(
  samples: Float32Array,
  sampleRate: number,
  lowHz: number,
  highHz: number,
): number {
  // Average the power spectra of 2048-sample blocks (Hann window), a plain Welch estimate.
  const n = 2048;
  const power = new Float64Array(n / 2);
  const window = new Float64Array(n);
  for (let i = 0; i < n; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let start = 0; start + n <= samples.length; start += n) {
    for (let i = 0; i < n; i++) {
      re[i] = samples[start + i]! * window[i]!;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < n / 2; k++) power[k]! += re[k]! * re[k]! + im[k]! * im[k]!;
  }
  let inBand = 0;
  let total = 0;
  for (let k = 1; k < n / 2; k++) {
    const hz = (k * sampleRate) / n;
    total += power[k]!;
    if (hz >= lowHz && hz <= highHz) inBand += power[k]!;
  }
  return total > 0 ? inBand / total : 0;
}

/** RMS envelope in `windowMs` blocks, for comparing the shape of two signals. */
export function envelope(samples: Float32Array, sampleRate: number, windowMs = 20): Float64Array {
  const block = Math.max(1, Math.round((sampleRate * windowMs) / 1000));
  const out = new Float64Array(Math.floor(samples.length / block));
  for (let b = 0; b < out.length; b++) {
    let sum = 0;
    for (let i = b * block; i < (b + 1) * block; i++) sum += samples[i]! * samples[i]!;
    out[b] = Math.sqrt(sum / block);
  }
  return out;
}

/** Pearson correlation of two sequences over their common length. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb || 1);
}
