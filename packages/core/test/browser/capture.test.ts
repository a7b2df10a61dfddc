import { type CaptureEncoding, createCapture, mulawDecode, pcm16ToFloat } from '@voicewire/core';
import { afterEach, describe, expect, it } from 'vitest';
import { toDb, toneAmplitude } from '../../../../testing/audio.ts';
import { FAKE_MIC_TONE_AMPLITUDE } from './fixtures.ts';
import { frameContinuity, median, sineResidualsDb, sleep } from './harness.ts';

/** Level measurements need the raw microphone: Chrome's processing changes the fake mic's level. */
const RAW_MIC = { echoCancellation: false, noiseSuppression: false, autoGainControl: false } as const;

const contexts: AudioContext[] = [];
afterEach(async () => {
  for (const context of contexts.splice(0)) if (context.state !== 'closed') await context.close();
});

/** Resolves once `condition` holds; fails after `timeoutMs` (audio time on a loaded machine). */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${condition}`);
    await sleep(20);
  }
}

function toFloat(frames: Uint8Array[], encoding: CaptureEncoding): Float32Array {
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    bytes.set(frame, offset);
    offset += frame.length;
  }
  if (encoding === 'mulaw') return pcm16ToFloat(mulawDecode(bytes));
  return pcm16ToFloat(new Int16Array(bytes.buffer));
}

/**
 * The longest stretch of `signal` whose 10 ms blocks all hold the same level (±0.5 dB of the
 * median of the blocks that are not silent): Chromium's fake microphone sometimes inserts ~10 ms
 * of zeros under load, or starts late, which is the test machine's doing, not the capture's. Only
 * the level and spectrum are measured on it; that no frame was dropped anywhere is checked on the
 * frames' times (`expectNoDroppedFrames`).
 *
 * With `toneHz` (a signal that is that one tone), a block must also fit the tone as well as the
 * others do: a glitch of the input on a loaded machine (Firefox's PulseAudio stream skipping a
 * few samples) keeps the level but breaks the waveform, and would spread over the spectrum.
 */
function steadyStretch(signal: Float32Array, rate: number, toneHz?: number): Float32Array {
  const block = rate / 100;
  const levels: number[] = [];
  for (let i = 0; i + block <= signal.length; i += block) {
    let sum = 0;
    for (let k = i; k < i + block; k++) sum += signal[k]! ** 2;
    levels.push(toDb(Math.sqrt(sum / block)));
  }
  // The signal's own level: the median of the blocks that hold one (a fake device that starts
  // late, or stalls on a loaded machine, gives blocks of digital silence, which must not become
  // "the level" when there are many of them).
  const middle = median(levels.filter((level) => level > -60));
  const residuals = toneHz === undefined ? [] : sineResidualsDb(signal, toneHz, rate, block);
  const clean = median(residuals) + 10;
  const broken = (b: number) => toneHz !== undefined && !(residuals[b]! <= clean);
  let best = [0, 0];
  let start = 0;
  for (let b = 0; b <= levels.length; b++) {
    if (b === levels.length || Math.abs(levels[b]! - middle) > 0.5 || broken(b)) {
      if (b - start > best[1]! - best[0]!) best = [start, b];
      start = b + 1;
    }
  }
  // Keep a block of margin at each end: a dropout's edge may sit in a neighbouring block.
  return signal.subarray((best[0]! + 1) * block, (best[1]! - 1) * block);
}

/**
 * The amplitude of `frequencyHz`, median over 40 ms blocks: a block that holds a dropout (a fake
 * device's gap, an input underrun of a loaded machine) reads low, and does not decide the result.
 */
function blockAmplitude(signal: Float32Array, frequencyHz: number, rate: number): number {
  const block = Math.round(rate * 0.04);
  const values: number[] = [];
  for (let i = 0; i + block <= signal.length; i += block) {
    values.push(toneAmplitude(signal.subarray(i, i + block), frequencyHz, rate));
  }
  return median(values);
}

interface Captured {
  frames: Uint8Array[];
  /** The context time each frame was stamped with. */
  times: number[];
  frameMs: number;
}

/**
 * Capture until `ms` of audio has arrived (the fake device takes a moment to start) and, if given,
 * `enough` holds for the frames so far (checked every 500 ms of audio, for up to 20 s: the input
 * of a loaded machine glitches, and a steady stretch to measure on may take longer to come).
 */
async function captureFor(
  ms: number,
  options: { sampleRate: number; encoding: CaptureEncoding; frameMs?: number; context?: AudioContext },
  enough?: (frames: Uint8Array[]) => boolean,
): Promise<Captured> {
  const context = options.context ?? new AudioContext();
  if (!options.context) contexts.push(context);
  const frameMs = options.frameMs ?? 20;
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  const wanted = Math.max(2, Math.ceil(ms / frameMs));
  const checkEvery = Math.max(1, Math.round(500 / frameMs));
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const capture = await createCapture({
    ...options,
    ...RAW_MIC,
    // Firefox's PulseAudio input starts late on a loaded machine: the first audio is waited for
    // (the 5 s default gives up with "sends no audio").
    startTimeoutMs: 20_000,
    context,
    onFrame: (frame, { captureTime }) => {
      frames.push(frame);
      times.push(captureTime);
      const due = frames.length === wanted || (frames.length > wanted && frames.length % checkEvery === 0);
      if (due && (!enough || enough(frames))) done();
    },
  });
  // Audio time, so wall time on a loaded machine: a generous bound, and a clear failure.
  const timedOut = await Promise.race([finished.then(() => false), sleep(20_000).then(() => true)]);
  capture.stop();
  if (frames.length < wanted) throw new Error(`only ${frames.length} of ${wanted} frames within 20 s`);
  if (timedOut) console.log(`no steady stretch to measure on within 20 s of capture`);
  return { frames, times, frameMs };
}

/** Every frame there, none twice: frames × frameMs is the audio time they span. */
function expectNoDroppedFrames(captured: Captured, what = ''): void {
  expect(captured.frames.length, what).toBeGreaterThanOrEqual(2);
  expect(frameContinuity(captured.times, captured.frameMs), what).toEqual({ missing: 0, extra: 0 });
}

describe('createCapture', () => {
  it('posts frames of exactly rate × frameMs samples for linear16 and mulaw at 8, 16 and 24 kHz', async () => {
    const context = new AudioContext();
    contexts.push(context);
    const cases: { sampleRate: number; encoding: CaptureEncoding; frameMs: number }[] = [];
    for (const sampleRate of [8000, 16_000, 24_000])
      for (const encoding of ['linear16', 'mulaw'] as const)
        for (const frameMs of [10, 20, 100]) cases.push({ sampleRate, encoding, frameMs });
    // Three microphones at a time: Chromium's fake device refuses many concurrent openings.
    const results: Captured[] = [];
    for (let i = 0; i < cases.length; i += 3) {
      results.push(
        ...(await Promise.all(
          cases.slice(i, i + 3).map((c) => captureFor(2 * c.frameMs, { ...c, context })),
        )),
      );
    }
    cases.forEach((c, i) => {
      const { frames } = results[i]!;
      const expected = (c.sampleRate * c.frameMs) / 1000 / (c.encoding === 'linear16' ? 0.5 : 1);
      expectNoDroppedFrames(results[i]!, JSON.stringify(c));
      expect(new Set(frames.map((f) => f.byteLength)), JSON.stringify(c)).toEqual(new Set([expected]));
    });
    expect(cases).toHaveLength(18);
  });

  for (const encoding of ['linear16', 'mulaw'] as const) {
    it(`${encoding}: a 1 kHz tone comes through at 1 kHz at its level`, async () => {
      // The tone from 200 ms on (the device's start left out), on a clean stretch of at least 0.5 s.
      const steadyOf = (frames: Uint8Array[]) =>
        steadyStretch(toFloat(frames, encoding).subarray(3200), 16_000, 1000);
      const captured = await captureFor(
        2000,
        { sampleRate: 16_000, encoding },
        (frames) => steadyOf(frames).length >= 8000,
      );
      expectNoDroppedFrames(captured);
      const steady = steadyOf(captured.frames);
      expect(steady.length).toBeGreaterThan(3200);
      const level = blockAmplitude(steady, 1000, 16_000);
      expect(Math.abs(toDb(level / FAKE_MIC_TONE_AMPLITUDE))).toBeLessThan(0.5);
      // 1 kHz dominates its neighbours: it is the tone, not noise.
      expect(toDb(toneAmplitude(steady, 1300, 16_000) / level)).toBeLessThan(-40);
    });
  }

  it('setFormat mid-capture: the next frames are 8 kHz μ-law (an ElevenLabs agent announcing ulaw_8000), the tone at its level', async () => {
    const context = new AudioContext();
    contexts.push(context);
    const before: Uint8Array[] = [];
    const after: Uint8Array[] = [];
    let switched = false;
    const capture = await createCapture({
      sampleRate: 16_000,
      encoding: 'linear16',
      ...RAW_MIC,
      startTimeoutMs: 20_000,
      context,
      onFrame: (frame) => (switched ? after : before).push(frame),
    });
    try {
      await until(() => before.length >= 5, 20_000);
      capture.setFormat!({ encoding: 'mulaw', sampleRate: 8000 });
      switched = true;
      expect(capture.sampleRate).toBe(8000);
      expect(capture.encoding).toBe('mulaw');
      const steadyOf = (frames: Uint8Array[]) =>
        steadyStretch(
          toFloat(
            frames.filter((f) => f.length === 160),
            'mulaw',
          ).subarray(1600),
          8000,
          1000,
        );
      await until(() => after.length >= 60 && steadyOf(after).length >= 4000, 20_000);
      // Frames posted before the message reached the audio thread are still 16 kHz linear16;
      // from the first 8 kHz one on, every frame is.
      const first = after.findIndex((f) => f.length === 160);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(after.slice(0, first).every((f) => f.length === 640)).toBe(true);
      expect(after.slice(first).every((f) => f.length === 160)).toBe(true);
      expect(before.every((f) => f.length === 640)).toBe(true);
      const steady = steadyOf(after);
      const level = blockAmplitude(steady, 1000, 8000);
      expect(Math.abs(toDb(level / FAKE_MIC_TONE_AMPLITUDE))).toBeLessThan(0.5);
    } finally {
      capture.stop();
    }
  });

  it('a 12 kHz tone captured at 16 kHz is suppressed by at least 60 dB (no alias at 4 kHz)', async () => {
    // The fake microphone plays 1 kHz and 12 kHz at the same amplitude.
    // Each measured on a steady stretch of at least 0.5 s (the 16 kHz one, where only the 1 kHz
    // tone is left, also free of waveform glitches).
    const wideOf = (frames: Uint8Array[]) =>
      steadyStretch(toFloat(frames, 'linear16').subarray(9600), 48_000);
    const narrowOf = (frames: Uint8Array[]) =>
      steadyStretch(toFloat(frames, 'linear16').subarray(3200), 16_000, 1000);
    const wideCapture = await captureFor(
      1200,
      { sampleRate: 48_000, encoding: 'linear16' },
      (frames) => wideOf(frames).length >= 24_000,
    );
    const narrowCapture = await captureFor(
      1500,
      { sampleRate: 16_000, encoding: 'linear16' },
      (frames) => narrowOf(frames).length >= 8000,
    );
    expectNoDroppedFrames(wideCapture, '48 kHz');
    expectNoDroppedFrames(narrowCapture, '16 kHz');
    const wide = wideOf(wideCapture.frames);
    const narrow = narrowOf(narrowCapture.frames);
    const probe = blockAmplitude(wide, 12_000, 48_000);
    // At 48 kHz the probe is there, at full level: the test would see an alias if there were one.
    expect(Math.abs(toDb(probe / FAKE_MIC_TONE_AMPLITUDE))).toBeLessThan(1);
    const reference = toneAmplitude(narrow, 1000, 16_000);
    const alias = toneAmplitude(narrow, 4000, 16_000);
    console.log(
      `12 kHz at 48 kHz: ${toDb(probe).toFixed(1)} dBFS; alias at 4 kHz after 16 kHz capture: ${toDb(alias / probe).toFixed(1)} dB`,
    );
    expect(toDb(alias / probe)).toBeLessThanOrEqual(-60);
    expect(toDb(alias / reference)).toBeLessThanOrEqual(-60);
  });
});
