import { mulawDecode, pcm16ToFloat } from '@voicewire/core';
import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { createOutputEncoder } from '@voicewire/server';
import { afterAll, describe, expect, test } from 'vitest';
import { concat, toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { requireSox } from '../../../../testing/tools.ts';
import {
  concatBytes,
  type Decoded,
  decodeStream,
  decodeWithSox,
  fitTones,
  onsetIndex,
} from './realDecoders.ts';

const RATES = [8000, 16000, 24000, 44100, 48000] as const;
const LEAD_SILENCE_S = 0.2;
const TONE_S = 1;
const AMPLITUDE = 0.5;
/** Piece sizes that do not line up with any codec's frame: 1 sample, primes, a 20 ms frame at 48 kHz. */
const PIECES = [1, 7, 113, 960, 1001, 37, 4099, 2];

/** Encode `signal` through a fresh encoder, fed in odd-sized pieces; returns every output chunk. */
async function encodeInPieces(format: OutputFormat, sampleRate: number, signal: Float32Array) {
  const encoder = await createOutputEncoder(format, sampleRate);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < signal.length; i++) {
    const size = PIECES[i % PIECES.length]!;
    chunks.push(encoder.encode(signal.subarray(offset, offset + size)));
    offset += size;
  }
  chunks.push(encoder.finish());
  return { encoder, chunks, bytes: concatBytes(chunks) };
}

/** Our own reading of the headerless formats and of WAV (the header is checked field by field). */
function decodePcm(format: 'wav' | 'raw' | 'mulaw', bytes: Uint8Array, sampleRate: number): Decoded {
  if (format === 'raw') {
    return { samples: new Float32Array(bytes.slice().buffer), sampleRate };
  }
  if (format === 'mulaw') return { samples: pcm16ToFloat(mulawDecode(bytes)), sampleRate };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  expect(text(0)).toBe('RIFF');
  expect(text(8)).toBe('WAVE');
  expect(text(12)).toBe('fmt ');
  expect(view.getUint16(20, true)).toBe(1); // PCM
  expect(view.getUint16(22, true)).toBe(1); // mono
  expect(view.getUint16(34, true)).toBe(16);
  expect(view.getUint32(28, true)).toBe(view.getUint32(24, true) * 2);
  expect(text(36)).toBe('data');
  // Streaming sizes: unknown, read to the end.
  expect(view.getUint32(4, true)).toBe(0xffffffff);
  expect(view.getUint32(40, true)).toBe(0xffffffff);
  const pcm = new Int16Array(bytes.slice(44).buffer);
  return { samples: pcm16ToFloat(pcm), sampleRate: view.getUint32(24, true) };
}

async function decode(format: OutputFormat, bytes: Uint8Array, sampleRate: number): Promise<Decoded> {
  if (format === 'wav' || format === 'raw' || format === 'mulaw') return decodePcm(format, bytes, sampleRate);
  return decodeStream(format, [bytes]);
}

const LOSSY = new Set<OutputFormat>(['mp3', 'ogg']);
/** Level tolerance: the brief's ±1 dB for PCM formats (FLAC is lossless), ±3 dB for mp3/ogg. */
const levelToleranceDb = (format: OutputFormat) => (LOSSY.has(format) ? 3 : 1);
/**
 * Ceiling on everything that is not the tone(s), relative to them: 16-bit quantisation for wav
 * and flac (~-95 dB), float32 for raw, μ-law's 8-bit companding (~-38 dB SNR), and what the
 * perceptual codecs leave at these rates.
 */
const RESIDUAL_LIMIT_DB: Record<OutputFormat, number> = {
  raw: -120,
  wav: -85,
  flac: -85,
  mulaw: -30,
  mp3: -60,
  ogg: -20,
};
/** The codec's own delay, in samples at the stream rate: LAME 576 + mpg123 529; Vorbis has none. */
const EXPECTED_DELAY: Record<OutputFormat, number> = { mp3: 1105, ogg: 0, flac: 0, wav: 0, raw: 0, mulaw: 0 };

const formats: OutputFormat[] = ['mp3', 'ogg', 'flac', 'wav', 'raw', 'mulaw'];
const report: string[] = [];

describe.each(formats)('%s output', (format) => {
  test.each(RATES)('1 kHz tone at %i Hz decodes at the right rate, level, length and delay', async (rate) => {
    const signal = concat(
      new Float32Array(Math.round(LEAD_SILENCE_S * rate)),
      tone(1000, TONE_S, rate, AMPLITUDE),
    );
    const { encoder, chunks, bytes } = await encodeInPieces(format, rate, signal);
    expect(encoder.format).toBe(format);
    expect(encoder.sampleRate).toBe(rate);
    expect(encoder.streamSampleRate).toBe(rate);
    // Output flows while encoding, not only at finish().
    const beforeFinish = chunks.slice(0, -1).reduce((n, c) => n + c.length, 0);
    expect(beforeFinish).toBeGreaterThan(bytes.length / 2);

    const decoded = await decode(format, bytes, rate);
    expect(decoded.sampleRate).toBe(rate);
    // Where the tone crosses a quarter of its amplitude, in the stream against in the input.
    const delay = onsetIndex(decoded.samples, AMPLITUDE / 4) - onsetIndex(signal, AMPLITUDE / 4);
    expect(Math.abs(delay - EXPECTED_DELAY[format])).toBeLessThanOrEqual(LOSSY.has(format) ? 4 : 0);
    const extra = decoded.samples.length - signal.length;
    if (LOSSY.has(format)) {
      // The stream holds all of the signal plus at most the codec delay and one frame of padding.
      expect(extra).toBeGreaterThanOrEqual(EXPECTED_DELAY[format]);
      expect(extra).toBeLessThanOrEqual(EXPECTED_DELAY[format] + 1152 + 576);
    } else {
      expect(extra).toBe(0);
    }

    // The steady part of the tone, away from the codec's onset and tail.
    const start = Math.round(LEAD_SILENCE_S * rate) + EXPECTED_DELAY[format] + Math.round(0.1 * rate);
    const steady = decoded.samples.subarray(start, start + Math.round(0.7 * rate));
    const levelDb = toDb(toneAmplitude(steady, 1000, rate));
    expect(Math.abs(levelDb - toDb(AMPLITUDE))).toBeLessThanOrEqual(levelToleranceDb(format));
    const { amplitudes, residualDb } = fitTones(steady, [1000], rate);
    expect(Math.abs(toDb(amplitudes[0]!) - toDb(AMPLITUDE))).toBeLessThanOrEqual(levelToleranceDb(format));
    expect(residualDb).toBeLessThan(RESIDUAL_LIMIT_DB[format]);
    // Silence before the tone stays silent (no pre-echo beyond the codec's block).
    const lead = decoded.samples.subarray(0, Math.round(LEAD_SILENCE_S * rate) - 1200);
    expect(toDb(toneAmplitude(lead, 1000, rate))).toBeLessThan(-60);
    report.push(
      `${format} ${rate} Hz: ${bytes.length} B, level ${levelDb.toFixed(2)} dBFS (want ${toDb(AMPLITUDE).toFixed(2)}), ` +
        `residual ${residualDb.toFixed(1)} dB, delay ${delay} samples, length +${extra}`,
    );
  });

  test.each(RATES)('two tones at %i Hz keep both levels and add nothing', async (rate) => {
    const high = rate >= 16000 ? 3100 : 2500;
    const signal = new Float32Array(Math.round(0.8 * rate));
    const a = tone(1000, 0.8, rate, 0.3);
    const b = tone(high, 0.8, rate, 0.2);
    for (let i = 0; i < signal.length; i++) signal[i] = a[i]! + b[i]!;
    const { bytes } = await encodeInPieces(format, rate, signal);
    const decoded = await decode(format, bytes, rate);
    const start = EXPECTED_DELAY[format] + Math.round(0.15 * rate);
    const steady = decoded.samples.subarray(start, start + Math.round(0.5 * rate));
    const { amplitudes, residualDb } = fitTones(steady, [1000, high], rate);
    expect(Math.abs(toDb(amplitudes[0]!) - toDb(0.3))).toBeLessThanOrEqual(levelToleranceDb(format));
    expect(Math.abs(toDb(amplitudes[1]!) - toDb(0.2))).toBeLessThanOrEqual(levelToleranceDb(format));
    expect(residualDb).toBeLessThan(RESIDUAL_LIMIT_DB[format]);
    report.push(`${format} ${rate} Hz two-tone: residual ${residualDb.toFixed(1)} dB`);
  });
});

describe('independent decoder (sox)', () => {
  test.each(['mp3', 'ogg', 'flac', 'wav'] as const)('sox reads the %s stream', async (format) => {
    requireSox(format);
    const rate = 24000;
    const signal = tone(1000, 1, rate, AMPLITUDE);
    const { bytes } = await encodeInPieces(format, rate, signal);
    const decoded = decodeWithSox(bytes, format);
    expect(decoded.sampleRate).toBe(rate);
    const steady = decoded.samples.subarray(Math.round(0.2 * rate), Math.round(0.8 * rate));
    expect(Math.abs(toDb(toneAmplitude(steady, 1000, rate)) - toDb(AMPLITUDE))).toBeLessThanOrEqual(
      levelToleranceDb(format),
    );
    expect(fitTones(steady, [1000], rate).residualDb).toBeLessThan(RESIDUAL_LIMIT_DB[format]);
    if (format === 'flac' || format === 'wav') expect(decoded.samples.length).toBe(signal.length);
  });
});

// The measured figures, for the log (the assertions above hold the limits).
afterAll(() => {
  console.log(report.join('\n'));
});

describe('rates outside the common five', () => {
  // Setup accepts any rate from 8000 to 96000 Hz; ogg, flac and the PCM formats carry it as is.
  test.each([11025, 22050, 32000, 37800, 88200, 96000])('ogg, flac and wav at %i Hz', async (rate) => {
    for (const format of ['ogg', 'flac', 'wav'] as const) {
      const signal = tone(1000, 0.6, rate, AMPLITUDE);
      const { encoder, bytes } = await encodeInPieces(format, rate, signal);
      expect(encoder.streamSampleRate).toBe(rate);
      const decoded = await decode(format, bytes, rate);
      expect(decoded.sampleRate).toBe(rate);
      expect(decoded.samples.length).toBe(signal.length);
      const steady = decoded.samples.subarray(Math.round(0.1 * rate), Math.round(0.5 * rate));
      expect(Math.abs(toDb(toneAmplitude(steady, 1000, rate)) - toDb(AMPLITUDE))).toBeLessThanOrEqual(
        levelToleranceDb(format),
      );
    }
  });

  // MPEG audio has nine rates; others are carried at the next one up, 48000 above 48 kHz, and the
  // frame headers say so (every mp3 decoder follows them).
  test.each([
    [11025, 11025],
    [12000, 12000],
    [17000, 22050],
    [32000, 32000],
    [37800, 44100],
    [64000, 48000],
    [96000, 48000],
  ])(
    'mp3 asked for %i Hz is written at %i Hz and keeps the tone, level and duration',
    async (rate, streamRate) => {
      const signal = tone(1000, 1, rate, AMPLITUDE);
      const { encoder, bytes } = await encodeInPieces('mp3', rate, signal);
      expect(encoder.sampleRate).toBe(rate);
      expect(encoder.streamSampleRate).toBe(streamRate);
      const decoded = await decode('mp3', bytes, rate);
      expect(decoded.sampleRate).toBe(streamRate);
      const seconds = (decoded.samples.length - EXPECTED_DELAY.mp3) / streamRate;
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThan(1 + (2 * 1152) / streamRate);
      const steady = decoded.samples.subarray(Math.round(0.2 * streamRate), Math.round(0.8 * streamRate));
      expect(Math.abs(toDb(toneAmplitude(steady, 1000, streamRate)) - toDb(AMPLITUDE))).toBeLessThanOrEqual(
        3,
      );
      expect(fitTones(steady, [1000], streamRate).residualDb).toBeLessThan(-40);
    },
  );

  test('rates outside 8000–96000 Hz and unknown formats are refused', async () => {
    await expect(createOutputEncoder('wav', 7999)).rejects.toThrow(RangeError);
    await expect(createOutputEncoder('mp3', 96001)).rejects.toThrow(/outside 8000–96000/);
    await expect(createOutputEncoder('aac' as OutputFormat, 24000)).rejects.toThrow(/unknown format "aac"/);
  });

  test('an encoder refuses use after finish()', async () => {
    for (const format of formats) {
      const encoder = await createOutputEncoder(format, 16000);
      encoder.encode(tone(1000, 0.1, 16000));
      encoder.finish();
      expect(() => encoder.encode(new Float32Array(10))).toThrow(/after finish/);
      expect(() => encoder.finish()).toThrow(/twice/);
    }
  });
});

describe('bad samples', () => {
  // Played-back user audio can come from a client's float WAV: NaN, infinities, values past ±1.
  test.each(formats)(
    '%s: NaN, infinities and values past full scale come out as silence or clipped',
    async (format) => {
      const rate = 16000;
      const signal = tone(1000, 0.5, rate, AMPLITUDE);
      for (let i = 2000; i < 2100; i++) signal[i] = Number.NaN;
      signal[3000] = Number.POSITIVE_INFINITY;
      signal[3001] = Number.NEGATIVE_INFINITY;
      for (let i = 4000; i < 4100; i++) signal[i] = 40;
      const { bytes } = await encodeInPieces(format, rate, signal);
      const decoded = await decode(format, bytes, rate);
      let worst = 0;
      for (const s of decoded.samples) {
        expect(Number.isFinite(s)).toBe(true);
        worst = Math.max(worst, Math.abs(s));
      }
      // (The FLAC decoder scales by 1/32767, so -32768 reads a hair past -1.)
      expect(worst).toBeLessThanOrEqual(LOSSY.has(format) ? 1.5 : 1.0001);
      // The tone after the damage is intact.
      const after = decoded.samples.subarray(5000 + EXPECTED_DELAY[format], 7000 + EXPECTED_DELAY[format]);
      expect(Math.abs(toDb(toneAmplitude(after, 1000, rate)) - toDb(AMPLITUDE))).toBeLessThanOrEqual(
        levelToleranceDb(format),
      );
    },
  );
});
