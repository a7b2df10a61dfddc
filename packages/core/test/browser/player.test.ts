import { createPlayer } from '@voicewire/core';
import { OUTPUT_FORMATS, type OutputFormat } from '@voicewire/core/playai/protocol';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { toDb, toneAmplitude } from '../../../../testing/audio.ts';
import { PLAYER_TEST_AMPLITUDE, PLAYER_TEST_RATE, PLAYER_TEST_TONE_HZ } from './fixtures.ts';
import {
  createRecorder,
  decodeBase64,
  firstAbove,
  lastAbove,
  median,
  randomChunks,
  sineResidualsDb,
  waitFor,
} from './harness.ts';

const CONTEXT_RATE = 48_000;
/** Each format's own noise floor around the tone (lossless ≈ float rounding, μ-law ≈ 8 bits, Vorbis at 24 kHz the loosest). */
const MAX_RESIDUAL_DB: Record<OutputFormat, number> = {
  raw: -80,
  wav: -80,
  flac: -80,
  mulaw: -33,
  mp3: -60,
  ogg: -22,
};
const contexts: AudioContext[] = [];

async function newContext(): Promise<AudioContext> {
  const context = new AudioContext({ sampleRate: CONTEXT_RATE });
  contexts.push(context);
  await context.resume();
  return context;
}

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

describe('createPlayer plays every output format', () => {
  for (const format of OUTPUT_FORMATS) {
    it(`${format}: cut into random-sized chunks, plays the ${PLAYER_TEST_TONE_HZ} Hz tone at its level, gaplessly`, async () => {
      const context = await newContext();
      const recorder = await createRecorder(context);
      const player = await createPlayer({
        format,
        sampleRate: PLAYER_TEST_RATE,
        context,
        destination: recorder.input,
      });
      const errors: unknown[] = [];
      player.on('error', (error) => errors.push(error));
      const bytes = decodeBase64(inject('encodedStreams')[format as OutputFormat]);
      const drained = waitFor<number>((resolve) => player.on('drained', resolve), 30_000, 'drained');
      const started = waitFor<number>((resolve) => player.on('started', resolve), 30_000, 'started');
      for (const chunk of randomChunks(bytes, 1234 + bytes.length, 700)) player.enqueue(chunk);
      player.endStream?.();
      expect(await started).toBe(0);
      await drained;
      const { samples } = await recorder.stop();
      player.close();
      expect(errors).toEqual([]);

      const first = firstAbove(samples, 0.05);
      const last = lastAbove(samples, 0.05);
      expect(first).toBeGreaterThanOrEqual(0);
      // About one second of audio came out (codec priming and padding may add a few ms).
      expect((last - first) / CONTEXT_RATE).toBeGreaterThan(0.95);
      expect((last - first) / CONTEXT_RATE).toBeLessThan(1.06);
      // The steady middle: the tone, at its level, with no discontinuity anywhere.
      const steady = samples.subarray(first + 2400, last - 2400);
      const level = toneAmplitude(steady, PLAYER_TEST_TONE_HZ, CONTEXT_RATE);
      expect(Math.abs(toDb(level / PLAYER_TEST_AMPLITUDE))).toBeLessThan(0.5);
      const residuals = sineResidualsDb(steady, PLAYER_TEST_TONE_HZ, CONTEXT_RATE, 480);
      const worst = Math.max(...residuals);
      // Codec noise is spread fairly evenly; a discontinuity (one skipped or repeated sample is
      // about -20 dB against this tone) lifts its 10 ms block far above the rest.
      expect(worst).toBeLessThan(median(residuals) + 10);
      expect(worst).toBeLessThan(MAX_RESIDUAL_DB[format]);
    });
  }
});
