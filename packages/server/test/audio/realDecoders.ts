/**
 * Real decoders for the encoded streams, and measurements on what they give back. The mp3, ogg
 * and flac streams go through the same WASM decoder packages a browser player would use; sox
 * (when installed) is a second, independent reader of the whole file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import { concatBytes } from '../../src/audio/concatBytes.ts';

export { concatBytes };

export interface Decoded {
  samples: Float32Array;
  sampleRate: number;
}

export function concatFloat(parts: readonly Float32Array[]): Float32Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Float32Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A seeded generator, so that "random" chunkings are the same on every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** Split `bytes` into pieces of random sizes between 1 and `max` bytes. */
export function randomPieces(bytes: Uint8Array, max: number, seed = 7): Uint8Array[] {
  const next = random(seed);
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const size = 1 + Math.floor(next() * max);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

/**
 * A streaming decoder for one format, fed piece by piece: `push` returns the samples that piece
 * made available, `end` whatever is left.
 */
export interface StreamingDecoder {
  push(bytes: Uint8Array): Promise<Decoded>;
  end(): Promise<Decoded>;
  free(): void;
}

export async function streamingDecoder(format: OutputFormat): Promise<StreamingDecoder> {
  switch (format) {
    case 'mp3': {
      const decoder = new MPEGDecoder();
      await decoder.ready;
      const asDecoded = (r: { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number }) => ({
        samples: (r.channelData[0] ?? new Float32Array(0)).slice(0, r.samplesDecoded),
        sampleRate: r.sampleRate,
      });
      return {
        push: async (bytes) => asDecoded(decoder.decode(bytes)),
        end: async () => ({ samples: new Float32Array(0), sampleRate: 0 }),
        free: () => decoder.free(),
      };
    }
    case 'ogg':
    case 'flac': {
      const decoder = format === 'ogg' ? new OggVorbisDecoder() : new FLACDecoder();
      await decoder.ready;
      const asDecoded = (r: { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number }) => ({
        samples: (r.channelData[0] ?? new Float32Array(0)).slice(0, r.samplesDecoded),
        sampleRate: r.sampleRate,
      });
      return {
        push: async (bytes) => asDecoded(await decoder.decode(bytes)),
        end: async () => asDecoded(await decoder.flush()),
        free: () => decoder.free(),
      };
    }
    default:
      throw new Error(`no streaming decoder package for ${format}`);
  }
}

/** Decode a whole stream through the streaming decoder, fed in `pieces`. */
export async function decodeStream(format: OutputFormat, pieces: readonly Uint8Array[]): Promise<Decoded> {
  const decoder = await streamingDecoder(format);
  try {
    const out: Float32Array[] = [];
    let sampleRate = 0;
    for (const piece of pieces) {
      const decoded = await decoder.push(piece);
      if (decoded.samples.length > 0) {
        out.push(decoded.samples);
        sampleRate = decoded.sampleRate;
      }
    }
    const tail = await decoder.end();
    if (tail.samples.length > 0) {
      out.push(tail.samples);
      sampleRate = tail.sampleRate;
    }
    return { samples: concatFloat(out), sampleRate };
  } finally {
    decoder.free();
  }
}

/** Decode a whole file with sox: mono float32 at the rate sox reads from the file. */
export function decodeWithSox(bytes: Uint8Array, extension: string): Decoded {
  const dir = mkdtempSync(join(tmpdir(), 'voicewire-sox-'));
  try {
    const file = join(dir, `stream.${extension}`);
    writeFileSync(file, bytes);
    const rate = Number(
      execFileSync('soxi', ['-r', file], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    const raw = execFileSync('sox', ['-V1', file, '-t', 'f32', '-e', 'floating-point', '-'], {
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const samples = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return { samples, sampleRate: rate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Least-squares fit of sines at `frequenciesHz` to `samples`: the amplitude of each and the RMS
 * of what is left once they are subtracted (noise, distortion, anything else), in dB relative to
 * the RMS of the fitted tones. "Nothing else in the signal" reads as a low residual.
 */
export function fitTones(
  samples: Float32Array,
  frequenciesHz: readonly number[],
  sampleRate: number,
): { amplitudes: number[]; residualDb: number } {
  const n = samples.length;
  const k = frequenciesHz.length * 2;
  const basis: Float64Array[] = [];
  for (const f of frequenciesHz) {
    const w = (2 * Math.PI * f) / sampleRate;
    const s = new Float64Array(n);
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = Math.sin(w * i);
      c[i] = Math.cos(w * i);
    }
    basis.push(s, c);
  }
  // Normal equations (k ≤ 4 here), solved by Gaussian elimination.
  const a: number[][] = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (let r = 0; r < k; r++) {
    for (let col = 0; col < k; col++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += basis[r]![i]! * basis[col]![i]!;
      a[r]![col] = sum;
    }
    let rhs = 0;
    for (let i = 0; i < n; i++) rhs += basis[r]![i]! * samples[i]!;
    a[r]![k] = rhs;
  }
  for (let p = 0; p < k; p++) {
    for (let r = p + 1; r < k; r++) {
      const factor = a[r]![p]! / a[p]![p]!;
      for (let col = p; col <= k; col++) a[r]![col]! -= factor * a[p]![col]!;
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let sum = a[r]![k]!;
    for (let col = r + 1; col < k; col++) sum -= a[r]![col]! * x[col]!;
    x[r] = sum / a[r]![r]!;
  }
  let residual = 0;
  let fitted = 0;
  for (let i = 0; i < n; i++) {
    let model = 0;
    for (let b = 0; b < k; b++) model += x[b]! * basis[b]![i]!;
    fitted += model * model;
    residual += (samples[i]! - model) ** 2;
  }
  const amplitudes: number[] = [];
  for (let t = 0; t < frequenciesHz.length; t++) amplitudes.push(Math.hypot(x[2 * t]!, x[2 * t + 1]!));
  return { amplitudes, residualDb: 10 * Math.log10(Math.max(residual, 1e-30) / Math.max(fitted, 1e-30)) };
}

/** Index of the first sample louder than `threshold`, or -1. */
export function onsetIndex(samples: Float32Array, threshold: number): number {
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]!) > threshold) return i;
  return -1;
}
