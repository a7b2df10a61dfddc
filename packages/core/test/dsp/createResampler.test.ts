import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { createResampler, type Resampler } from '../../src/index.ts';

const AMPLITUDE = 0.5;
/** Long enough for a 10 Hz-wide analysis window, short enough to sweep hundreds of tones. */
const SECONDS = 0.15;

/** Resample a fresh tone and return the steady part of the output (the filter's fill-up skipped). */
function resampleTone(from: number, to: number, frequencyHz: number, seconds = SECONDS): Float32Array {
  const resampler = createResampler(from, to);
  const output = resampler.process(tone(frequencyHz, seconds, from, AMPLITUDE));
  return output.subarray(Math.ceil(2 * resampler.latencySamples) + 2);
}

/** Level of `frequencyHz` in the output relative to the input tone, dB. */
function gainDb(output: Float32Array, frequencyHz: number, rate: number): number {
  return toDb(toneAmplitude(output, frequencyHz, rate) / AMPLITUDE);
}

/** Where an input tone folds to after sampling at `rate`. */
function aliasOf(frequencyHz: number, rate: number): number {
  const folded = frequencyHz % rate;
  return folded > rate / 2 ? rate - folded : folded;
}

/** Input tones from `fromHz` to `toHz` in `steps` steps, both ends included. */
function sweep(fromHz: number, toHz: number, steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => fromHz + ((toHz - fromHz) * i) / steps);
}

describe('createResampler: downsampling quality', () => {
  for (const [from, to] of [
    [48_000, 16_000],
    [44_100, 16_000],
    [47_999, 16_000], // no useful common divisor: the interpolated-phase table
  ] as const) {
    it(`${from} → ${to}: aliases of tones above 0.55·fs_out are ≥ 70 dB down`, () => {
      let worst = Number.POSITIVE_INFINITY;
      let worstHz = 0;
      for (const f of sweep(0.55 * to, from / 2 - 10, 160)) {
        const rejection = -gainDb(resampleTone(from, to, f), aliasOf(f, to), to);
        if (rejection < worst) {
          worst = rejection;
          worstHz = f;
        }
      }
      expect(worst, `worst at ${worstHz.toFixed(0)} Hz`).toBeGreaterThanOrEqual(70);
    });

    it(`${from} → ${to}: ≤ 0.1 dB ripple below 0.45·fs_out`, () => {
      for (const f of [...sweep(40, 0.45 * to, 60), 1000, 3000]) {
        const gain = gainDb(resampleTone(from, to, f), f, to);
        expect(Math.abs(gain), `${f.toFixed(0)} Hz: ${gain.toFixed(4)} dB`).toBeLessThanOrEqual(0.1);
      }
    });
  }

  it("'medium' quality still rejects aliases by 50 dB", () => {
    for (const f of [8_800, 10_000, 15_000, 20_000, 23_000]) {
      const resampler = createResampler(48_000, 16_000, { quality: 'medium' });
      const output = resampler.process(tone(f, SECONDS, 48_000, AMPLITUDE)).subarray(100);
      expect(gainDb(output, aliasOf(f, 16_000), 16_000), `${f} Hz`).toBeLessThan(-50);
    }
  });

  it('is not a trivial filter: a tone just below the output Nyquist survives, one at the stop edge does not', () => {
    // Guards against a test that passes because everything is attenuated.
    expect(gainDb(resampleTone(48_000, 16_000, 7_000), 7_000, 16_000)).toBeGreaterThan(-0.1);
    expect(gainDb(resampleTone(48_000, 16_000, 12_000), 4_000, 16_000)).toBeLessThan(-70);
  });
});

describe('createResampler: upsampling quality', () => {
  for (const [from, to] of [
    [16_000, 48_000],
    [22_050, 44_100],
    [8_000, 44_100],
    [16_001, 48_000], // interpolated-phase table
  ] as const) {
    it(`${from} → ${to}: images are ≥ 70 dB down and the passband is flat within 0.1 dB`, () => {
      let worst = Number.POSITIVE_INFINITY;
      for (const f of sweep(40, 0.45 * from, 80)) {
        const output = resampleTone(from, to, f);
        const gain = gainDb(output, f, to);
        expect(Math.abs(gain), `${f.toFixed(0)} Hz: ${gain.toFixed(4)} dB`).toBeLessThanOrEqual(0.1);
        for (let k = 1; k * from - f < to / 2; k++) {
          for (const image of [k * from - f, k * from + f]) {
            if (image < to / 2) worst = Math.min(worst, -gainDb(output, image, to));
          }
        }
      }
      expect(worst).toBeGreaterThanOrEqual(70);
    });
  }
});

describe('createResampler: the targets hold across the range', () => {
  for (const [from, to] of [
    [96_000, 8_000],
    [88_200, 22_050],
    [32_000, 24_000],
    [44_100, 22_050],
    [11_025, 16_000],
    [8_000, 96_000],
    [12_345, 48_000],
  ] as const) {
    it(`${from} → ${to}`, () => {
      const lower = Math.min(from, to);
      for (const f of sweep(40, 0.45 * lower, 12)) {
        const output = resampleTone(from, to, f);
        expect(Math.abs(gainDb(output, f, to)), `ripple at ${f.toFixed(0)} Hz`).toBeLessThanOrEqual(0.1);
        if (from < to) {
          for (let k = 1; k * from - f < to / 2; k++) {
            for (const image of [k * from - f, k * from + f]) {
              if (image < to / 2) {
                expect(
                  gainDb(output, image, to),
                  `image of ${f.toFixed(0)} Hz at ${image.toFixed(0)} Hz`,
                ).toBeLessThan(-70);
              }
            }
          }
        }
      }
      if (from > to && 0.55 * to < from / 2) {
        for (const f of sweep(0.55 * to, from / 2 - 10, 30)) {
          const alias = aliasOf(f, to);
          expect(gainDb(resampleTone(from, to, f), alias, to), `alias of ${f.toFixed(0)} Hz`).toBeLessThan(
            -70,
          );
        }
      }
    });
  }
});

describe('createResampler: every supported pair', () => {
  const rates = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000];
  it('passes a 1 kHz tone at unity gain with the expected length', () => {
    for (const from of rates) {
      for (const to of rates) {
        const resampler = createResampler(from, to);
        const input = tone(1000, 0.1, from, AMPLITUDE);
        const output = resampler.process(input);
        expect(output.length, `${from} → ${to}`).toBe(Math.ceil((input.length * to) / from));
        const steady = output.subarray(Math.ceil(2 * resampler.latencySamples) + 2);
        expect(Math.abs(gainDb(steady, 1000, to)), `${from} → ${to}`).toBeLessThan(0.1);
      }
    }
  });

  it('copies at equal rates', () => {
    const resampler = createResampler(48_000, 48_000);
    const input = tone(440, 0.01, 48_000);
    const output = resampler.process(input);
    expect(output).not.toBe(input);
    expect(output).toEqual(input);
    expect(resampler.latencySamples).toBe(0);
    const into = new Float32Array(input.length + 5);
    expect(resampler.processInto(input, into)).toBe(input.length);
    expect(into.subarray(0, input.length)).toEqual(input);
  });

  it('rejects invalid rates with a RangeError that says which and why', () => {
    for (const [from, to, message] of [
      [0, 16_000, /fromRate must be an integer number of Hz from 3000 to 768000, got 0/],
      [-48_000, 16_000, /fromRate .* got -48000/],
      [44_100.5, 16_000, /fromRate .* got 44100.5/],
      [Number.NaN, 16_000, /fromRate .* got NaN/],
      [48_000, Number.POSITIVE_INFINITY, /toRate .* got Infinity/],
      [48_000, 1_000_000, /toRate .* got 1000000/],
      [48_000, '16000', /toRate .* got string/],
    ] as const) {
      expect(() => createResampler(from as number, to as number)).toThrow(RangeError);
      expect(() => createResampler(from as number, to as number)).toThrow(message);
    }
    expect(() => createResampler(48_000, 16_000, { quality: 'best' as 'high' })).toThrow(/quality must be/);
  });
});

describe('createResampler: streaming', () => {
  /** A deterministic pseudo-random generator, so a failure can be reproduced. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  function noise(length: number, seed: number): Float32Array {
    const next = random(seed);
    return Float32Array.from({ length }, () => next() * 2 - 1);
  }

  function feedInChunks(
    resampler: Resampler,
    input: Float32Array,
    seed: number,
    useInto: boolean,
  ): Float32Array {
    const next = random(seed);
    const parts: Float32Array[] = [];
    for (let offset = 0; offset < input.length; ) {
      // Mostly small chunks (audio-thread sized), with empty, single-sample and large ones.
      const pick = next();
      const size =
        pick < 0.1 ? 0 : pick < 0.2 ? 1 : pick < 0.9 ? Math.floor(next() * 300) : Math.floor(next() * 9000);
      const chunk = input.subarray(offset, offset + size);
      offset += chunk.length;
      if (useInto) {
        const out = new Float32Array(resampler.maxOutputLength(chunk.length));
        const written = resampler.processInto(chunk, out);
        expect(written).toBeLessThanOrEqual(out.length);
        parts.push(out.slice(0, written));
      } else {
        parts.push(resampler.process(chunk));
      }
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const output = new Float32Array(total);
    let at = 0;
    for (const part of parts) {
      output.set(part, at);
      at += part.length;
    }
    return output;
  }

  for (const [from, to] of [
    [48_000, 16_000],
    [44_100, 16_000],
    [16_000, 48_000],
    [22_050, 44_100],
    [24_000, 48_000],
    [44_100, 48_000],
    [47_999, 16_000],
    [8_000, 96_000],
  ] as const) {
    it(`${from} → ${to}: any chunking gives bit-identical output to one call`, () => {
      const input = noise(Math.round(from * 0.6), from + to);
      const whole = createResampler(from, to).process(input);
      expect(whole.length).toBe(Math.ceil((input.length * to) / from));
      for (const seed of [1, 2, 3]) {
        const chunked = feedInChunks(createResampler(from, to), input, seed, seed === 2);
        expect(chunked.length).toBe(whole.length);
        // toEqual on typed arrays compares every element; report the first difference readably.
        const firstDifference = chunked.findIndex((v, i) => v !== whole[i]);
        expect(firstDifference, `seed ${seed}`).toBe(-1);
      }
    });
  }

  it('delays by latencySamples', () => {
    for (const [from, to] of [
      [48_000, 16_000],
      [44_100, 16_000],
      [16_000, 48_000],
    ] as const) {
      const resampler = createResampler(from, to);
      const input = new Float32Array(from / 10);
      const at = 1000;
      input[at] = 1;
      const output = resampler.process(input);
      let peak = 0;
      for (let i = 1; i < output.length; i++) if (Math.abs(output[i]!) > Math.abs(output[peak]!)) peak = i;
      const expected = (at * to) / from + resampler.latencySamples;
      expect(Math.abs(peak - expected), `${from} → ${to}`).toBeLessThanOrEqual(1);
    }
  });

  it('reset() starts over as a new resampler', () => {
    const input = noise(5000, 9);
    const resampler = createResampler(44_100, 16_000);
    resampler.process(noise(1234, 10));
    resampler.reset();
    expect(resampler.process(input)).toEqual(createResampler(44_100, 16_000).process(input));
  });

  it('processInto refuses a short output without losing state', () => {
    const resampler = createResampler(16_000, 48_000);
    const input = noise(480, 11);
    expect(() => resampler.processInto(input, new Float32Array(10))).toThrow(/output holds 10 samples/);
    const reference = createResampler(16_000, 48_000).process(input);
    const out = new Float32Array(resampler.maxOutputLength(input.length));
    const written = resampler.processInto(input, out);
    expect(out.subarray(0, written)).toEqual(reference);
  });

  it('maxOutputLength bounds every call', () => {
    const resampler = createResampler(44_100, 48_000);
    const next = random(4);
    for (let i = 0; i < 500; i++) {
      const length = Math.floor(next() * 130);
      expect(resampler.process(new Float32Array(length)).length).toBeLessThanOrEqual(
        resampler.maxOutputLength(length),
      );
    }
  });
});

describe('createResampler: portability', () => {
  it('imports nothing but its own folder (it is bundled into an AudioWorklet)', () => {
    for (const file of ['createResampler.ts', 'kaiser.ts']) {
      const source = readFileSync(new URL(`../../src/dsp/${file}`, import.meta.url), 'utf8');
      const imports = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
      for (const specifier of imports) expect(specifier, file).toMatch(/^\.\/[\w]+\.ts$/);
      expect(source, file).not.toMatch(/\b(window|document|navigator|globalThis|self|process|Buffer)\s*\./);
      expect(source, file).not.toMatch(/\b(require|atob|btoa|setTimeout|fetch)\s*\(/);
    }
  });
});
