import { availableVoices, closeSpeech, synthesizeSpeech } from '@voicewire/server';
import { afterAll, describe, expect, test } from 'vitest';
import { fft, rmsDb } from '../../../../testing/audio.ts';

afterAll(() => closeSpeech());

/** Power spectrum of a Hann-windowed block (radix-2 FFT; `block.length` a power of two). */
function powerSpectrum(block: Float32Array): Float64Array {
  const n = block.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = block[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  fft(re, im);
  const power = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) power[k] = re[k]! ** 2 + im[k]! ** 2;
  return power;
}

/** Share of the signal's energy between `lowHz` and `highHz`, over all of the utterance. */
function bandShare(samples: Float32Array, sampleRate: number, lowHz: number, highHz: number): number {
  const n = 2048;
  let inBand = 0;
  let total = 0;
  for (let start = 0; start + n <= samples.length; start += n) {
    const power = powerSpectrum(samples.subarray(start, start + n));
    for (let k = 1; k < power.length; k++) {
      total += power[k]!;
      const f = (k * sampleRate) / n;
      if (f >= lowHz && f <= highHz) inBand += power[k]!;
    }
  }
  return inBand / total;
}

/** Length of the leading and trailing stretches below -50 dBFS, in ms. */
function silentEdgesMs(samples: Float32Array, sampleRate: number): [number, number] {
  const threshold = 10 ** (-50 / 20);
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) < threshold) first++;
  let last = samples.length - 1;
  while (last > 0 && Math.abs(samples[last]!) < threshold) last--;
  return [(first / sampleRate) * 1000, ((samples.length - 1 - last) / sampleRate) * 1000];
}

describe('synthesizeSpeech (mespeak, offline)', () => {
  const text = 'Hello! This is the local voicewire agent speaking.';

  test('speaks English at 24 kHz by default: non-empty, speech-band energy, silence trimmed', async () => {
    const started = performance.now();
    const samples = await synthesizeSpeech(text);
    const firstMs = performance.now() - started;
    const seconds = samples.length / 24000;
    // About 2.5 words a second at 175 wpm: eight words take roughly 2–5 s.
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(6);
    expect(rmsDb(samples)).toBeGreaterThan(-35);
    expect(bandShare(samples, 24000, 80, 4000)).toBeGreaterThan(0.8);
    const [lead, trail] = silentEdgesMs(samples, 24000);
    expect(lead).toBeLessThanOrEqual(15);
    expect(trail).toBeLessThanOrEqual(15);

    const again = performance.now();
    const cached = await synthesizeSpeech(text);
    const cachedMs = performance.now() - again;
    expect(cached).toEqual(samples);
    expect(cached).not.toBe(samples); // a copy: the caller may change it
    const other = performance.now();
    const fresh = await synthesizeSpeech('Another sentence, not cached yet.');
    const warmMs = performance.now() - other;
    expect(fresh.length).toBeGreaterThan(0);
    // Timings are reported, not asserted (they depend on the machine).
    console.log(
      `TTS: first call ${firstMs.toFixed(0)} ms (starts mespeak), warm ${warmMs.toFixed(0)} ms for ` +
        `${(fresh.length / 24000).toFixed(2)} s of speech, cached ${cachedMs.toFixed(1)} ms; ` +
        `${seconds.toFixed(2)} s, ${rmsDb(samples).toFixed(1)} dBFS RMS`,
    );
  });

  test.each([8000, 16000, 44100, 48000])('renders at %i Hz with the same duration', async (rate) => {
    const reference = await synthesizeSpeech(text, { sampleRate: 24000 });
    const samples = await synthesizeSpeech(text, { sampleRate: rate });
    expect(Math.abs(samples.length / rate - reference.length / 24000)).toBeLessThan(0.002);
    expect(rmsDb(samples)).toBeGreaterThan(-35);
    expect(bandShare(samples, rate, 80, Math.min(4000, rate / 2))).toBeGreaterThan(0.8);
  });

  test('speed and voice options change the speech; bad options are refused', async () => {
    const normal = await synthesizeSpeech('One two three four five six.', { sampleRate: 16000 });
    const fast = await synthesizeSpeech('One two three four five six.', { sampleRate: 16000, speed: 1.6 });
    expect(fast.length).toBeLessThan(normal.length * 0.8);
    expect(availableVoices()).toContain('en/en-us');
    expect(availableVoices()).toContain('de');
    const german = await synthesizeSpeech('Guten Tag.', { sampleRate: 16000, voice: 'de' });
    expect(german.length).toBeGreaterThan(0.3 * 16000);
    await expect(synthesizeSpeech('x', { voice: '../../etc/passwd' })).rejects.toThrow(/unknown voice/);
    await expect(synthesizeSpeech('x', { speed: 5 })).rejects.toThrow(/speed/);
    expect(await synthesizeSpeech('   ')).toHaveLength(0);
  });

  test('many different sentences in a row all succeed (the mespeak process is retired and replaced on the way)', async () => {
    const lengths: number[] = [];
    const requests: Promise<Float32Array>[] = [];
    for (let i = 0; i < 32; i++) requests.push(synthesizeSpeech(`Number ${i}.`, { sampleRate: 8000 }));
    for (const samples of await Promise.all(requests)) lengths.push(samples.length);
    expect(lengths.every((n) => n > 0.2 * 8000)).toBe(true);
  }, 120_000);

  test('a speech process that dies mid-request is replaced and the request still succeeds', async () => {
    const pending = synthesizeSpeech('This request loses its process.', { sampleRate: 16000 });
    closeSpeech(); // kills the process the request was just sent to
    const samples = await pending;
    expect(samples.length).toBeGreaterThan(0.5 * 16000);
  });
});
