import {
  createVoiceActivityDetector,
  type SpeechEndEvent,
  type SpeechStartEvent,
  synthesizeSpeech,
} from '@voicewire/server';
import { describe, expect, test } from 'vitest';
import { concat, tone } from '../../../../testing/audio.ts';

/** Deterministic white noise at an RMS of `rmsDb` dBFS. */
function noise(seconds: number, sampleRate: number, rmsDb: number, seed = 1): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  const amplitude = 10 ** (rmsDb / 20) * Math.sqrt(3); // uniform in [-a, a] has RMS a/√3
  let state = seed;
  for (let i = 0; i < out.length; i++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    out[i] = amplitude * ((state / 0xffffffff) * 2 - 1);
  }
  return out;
}

function silence(seconds: number, sampleRate: number): Float32Array {
  return new Float32Array(Math.round(seconds * sampleRate));
}

/** Syllable-like bursts: `count` tones of 200 ms separated by 100 ms gaps (a gap is not an end). */
function syllables(count: number, sampleRate: number, amplitude = 0.1): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(tone(220 + 40 * i, 0.2, sampleRate, amplitude));
    if (i < count - 1) parts.push(silence(0.1, sampleRate));
  }
  return concat(...parts);
}

/** Run the detector over `signal` in `frameMs` pieces, as a client would send it. */
function run(
  signal: Float32Array,
  sampleRate: number,
  options: { silenceMs?: number; frameMs?: number } = {},
) {
  const starts: SpeechStartEvent[] = [];
  const ends: SpeechEndEvent[] = [];
  const vad = createVoiceActivityDetector({
    sampleRate,
    silenceMs: options.silenceMs,
    onSpeechStart: (e) => starts.push(e),
    onSpeechEnd: (e) => ends.push(e),
  });
  const frame = Math.round(((options.frameMs ?? 20) * sampleRate) / 1000);
  for (let i = 0; i < signal.length; i += frame)
    vad.process(signal.subarray(i, Math.min(signal.length, i + frame)));
  return { starts, ends, vad };
}

describe('createVoiceActivityDetector', () => {
  test.each([8000, 16_000, 22_050, 44_100, 48_000])(
    'at %i Hz: start within 200 ms of the onset, end after the silence time, the duration right',
    (rate) => {
      const speech = syllables(5, rate); // 1.4 s
      const signal = concat(silence(1, rate), speech, silence(1.5, rate));
      const { starts, ends } = run(signal, rate);
      expect(starts).toHaveLength(1);
      expect(ends).toHaveLength(1);
      const onset = rate; // after 1 s of silence
      const start = starts[0]!;
      expect((start.detectedSample - onset) / rate).toBeGreaterThan(0);
      expect((start.detectedSample - onset) / rate).toBeLessThanOrEqual(0.2);
      expect(Math.abs(start.onsetSample - onset) / rate).toBeLessThanOrEqual(0.02);
      const end = ends[0]!;
      const lastSound = onset + speech.length;
      expect(Math.abs(end.lastSpeechSample - lastSound) / rate).toBeLessThanOrEqual(0.02);
      const endDelay = (end.detectedSample - lastSound) / rate;
      expect(endDelay).toBeGreaterThanOrEqual(0.58);
      expect(endDelay).toBeLessThanOrEqual(0.66);
      expect(end.speechSeconds).toBeCloseTo(1.4, 1);
    },
  );

  test('the silence time is configurable', () => {
    const rate = 16_000;
    const signal = concat(silence(0.5, rate), syllables(3, rate), silence(1, rate));
    const { ends } = run(signal, rate, { silenceMs: 250 });
    expect(ends).toHaveLength(1);
    const lastSound = 0.5 * rate + syllables(3, rate).length;
    const delay = (ends[0]!.detectedSample - lastSound) / rate;
    expect(delay).toBeGreaterThanOrEqual(0.24);
    expect(delay).toBeLessThanOrEqual(0.3);
  });

  test('digital silence and quiet hiss are never speech', () => {
    const rate = 16_000;
    expect(run(silence(3, rate), rate).starts).toHaveLength(0);
    expect(run(noise(3, rate, -60), rate).starts).toHaveLength(0);
    expect(run(concat(silence(1, rate), noise(3, rate, -65)), rate).starts).toHaveLength(0);
  });

  test('steady noise present from the start is the floor, and speech over it is still found', () => {
    const rate = 16_000;
    const background = noise(5, rate, -40);
    const speech = syllables(4, rate, 0.2);
    const signal = background.slice();
    const onset = 2 * rate;
    for (let i = 0; i < speech.length; i++) signal[onset + i]! += speech[i]!;
    const { starts, ends, vad } = run(signal, rate);
    expect(starts).toHaveLength(1);
    expect((starts[0]!.detectedSample - onset) / rate).toBeLessThanOrEqual(0.2);
    expect(ends).toHaveLength(1);
    expect(vad.noiseFloorDb).toBeGreaterThan(-45);
    expect(vad.noiseFloorDb).toBeLessThan(-35);
  });

  test('a click is not speech', () => {
    const rate = 48_000;
    const signal = concat(silence(1, rate), tone(1000, 0.005, rate, 0.8), silence(1, rate));
    expect(run(signal, rate).starts).toHaveLength(0);
  });

  test('two utterances separated by more than the silence time are two turns', () => {
    const rate = 16_000;
    const signal = concat(
      silence(0.5, rate),
      syllables(3, rate),
      silence(1.2, rate),
      syllables(2, rate),
      silence(1, rate),
    );
    const { starts, ends } = run(signal, rate);
    expect(starts).toHaveLength(2);
    expect(ends).toHaveLength(2);
  });

  test('events do not depend on how the input is cut into frames', () => {
    const rate = 44_100;
    const signal = concat(noise(0.7, rate, -55), syllables(4, rate), noise(1.5, rate, -55));
    const whole = run(signal, rate, { frameMs: 10_000 });
    const small = run(signal, rate, { frameMs: 7 });
    expect(small.starts).toEqual(whole.starts);
    expect(small.ends).toEqual(whole.ends);
    expect(whole.starts).toHaveLength(1);
  });

  test('silence fed as a count ends a turn, and forceEnd ends one at once', () => {
    const rate = 8000;
    const ends: SpeechEndEvent[] = [];
    const vad = createVoiceActivityDetector({ sampleRate: rate, onSpeechEnd: (e) => ends.push(e) });
    vad.process(concat(silence(0.3, rate), syllables(2, rate)));
    expect(vad.speaking).toBe(true);
    vad.processSilence(Math.round(0.7 * rate));
    expect(vad.speaking).toBe(false);
    expect(ends).toHaveLength(1);

    vad.process(syllables(2, rate));
    expect(vad.speaking).toBe(true);
    vad.forceEnd();
    expect(vad.speaking).toBe(false);
    expect(ends).toHaveLength(2);
  });

  test('a steady tone that starts mid-stream is not a turn that lasts forever', () => {
    const rate = 16_000;
    const signal = concat(silence(1, rate), tone(300, 12, rate, 0.05), silence(0.1, rate));
    const { starts, ends } = run(signal, rate);
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(ends.length).toBeGreaterThanOrEqual(1);
    expect(ends[0]!.detectedSample / rate).toBeLessThan(12);
  });

  test.each([16_000, 48_000])(
    'synthesised speech at %i Hz is one turn, found within 200 ms of its first sound',
    async (rate) => {
      const speech = await synthesizeSpeech('Hello, could you tell me the weather for tomorrow, please?', {
        sampleRate: rate,
      });
      const signal = concat(noise(1, rate, -60), speech, noise(1.5, rate, -60, 7));
      const { starts, ends } = run(signal, rate);
      expect(starts).toHaveLength(1);
      expect(ends).toHaveLength(1);
      // The first sound: where the speech first reaches -40 dBFS in a 10 ms window.
      let firstSound = rate;
      const window = rate / 100;
      for (let i = 0; i + window < speech.length; i += window) {
        let sum = 0;
        for (let j = i; j < i + window; j++) sum += speech[j]! * speech[j]!;
        if (10 * Math.log10(sum / window) > -40) {
          firstSound = rate + i;
          break;
        }
      }
      expect((starts[0]!.detectedSample - firstSound) / rate).toBeLessThanOrEqual(0.2);
      expect(ends[0]!.speechSeconds).toBeGreaterThan((speech.length / rate) * 0.8);
      expect(ends[0]!.speechSeconds).toBeLessThan(speech.length / rate + 0.05);
    },
  );

  test('quiet speech (-30 dBFS peaks) over a -55 dBFS hiss is still speech', async () => {
    const rate = 16_000;
    const speech = await synthesizeSpeech('One two three four.', { sampleRate: rate });
    let peak = 0;
    for (const x of speech) peak = Math.max(peak, Math.abs(x));
    const quiet = speech.map((x) => (x / peak) * 10 ** (-30 / 20));
    const signal = noise(4, rate, -55);
    for (let i = 0; i < quiet.length; i++) signal[rate + i]! += quiet[i]!;
    const { starts, ends } = run(signal, rate);
    expect(starts).toHaveLength(1);
    expect(ends).toHaveLength(1);
  });
});
