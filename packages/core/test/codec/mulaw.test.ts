import { describe, expect, it } from 'vitest';
import { mulawDecode, mulawDecodeSample, mulawEncode, mulawEncodeSample } from '../../src/index.ts';

/**
 * G.711 μ-law written the way the standard's tables read: 8 segments of 16 intervals on the
 * 14-bit biased magnitude (magnitude + 33), interval k of segment s starting at (16 + k) << (s + 1).
 * The encoder finds the interval by search; the code word is the inverted segment/interval with
 * the sign bit set for positive values. Independent of the library's bit-twiddling.
 */
function referenceEncode(sample: number): number {
  const negative = sample < 0;
  // 16-bit to 14-bit: the two's-complement negative folds onto its one's complement.
  const magnitude14 = Math.floor((negative ? -sample - 1 : sample) / 4);
  const biased = Math.min(magnitude14 + 33, 8191);
  let index = 0;
  for (let segment = 0; segment < 8; segment++) {
    for (let interval = 0; interval < 16; interval++) {
      if (biased >= (16 + interval) * 2 ** (segment + 1)) index = segment * 16 + interval;
    }
  }
  return 127 - index + (negative ? 0 : 128);
}

/** Decoder per the standard: the centre of the interval, unbiased, scaled to 16 bits. */
function referenceDecode(code: number): number {
  const index = 127 - (code & 127);
  const segment = Math.floor(index / 16);
  const interval = index % 16;
  const lower = (16 + interval) * 2 ** (segment + 1);
  const centre = lower + 2 ** segment;
  const value = (centre - 33) * 4;
  return code & 128 ? value : 0 - value;
}

describe('μ-law (G.711)', () => {
  it('decodes to the standard table values', () => {
    // The first and last rows of the published 16-bit μ-law decode table.
    const negatives = [
      -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884, -20860,
    ];
    for (const [i, value] of negatives.entries()) expect(mulawDecodeSample(i)).toBe(value);
    expect(mulawDecodeSample(0x0f)).toBe(-16764);
    expect(mulawDecodeSample(0x10)).toBe(-15996);
    expect(mulawDecodeSample(0x11)).toBe(-15484);
    const quiet = [-120, -112, -104, -96, -88, -80, -72, -64, -56, -48, -40, -32, -24, -16, -8, 0];
    for (const [i, value] of quiet.entries()) expect(mulawDecodeSample(0x70 + i)).toBe(value);
    expect(mulawDecodeSample(0x80)).toBe(32124);
    expect(mulawDecodeSample(0xfe)).toBe(8);
    expect(mulawDecodeSample(0xff)).toBe(0);
    for (let b = 0; b < 256; b++) expect(mulawDecodeSample(b), `byte ${b}`).toBe(referenceDecode(b));
  });

  it('encodes the standard reference points', () => {
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(mulawEncodeSample(-1)).toBe(0x7f);
    expect(mulawEncodeSample(32767)).toBe(0x80);
    expect(mulawEncodeSample(-32768)).toBe(0x00);
    expect(mulawEncodeSample(32124)).toBe(0x80);
    expect(mulawEncodeSample(-32124)).toBe(0x00);
    expect(mulawEncodeSample(8)).toBe(0xfe);
    expect(mulawEncodeSample(-8)).toBe(0x7e);
  });

  it('round-trips every code word (0x7F, negative zero, becomes positive zero)', () => {
    for (let b = 0; b < 256; b++) {
      const back = mulawEncodeSample(mulawDecodeSample(b));
      expect(back, `byte ${b}`).toBe(b === 0x7f ? 0xff : b);
    }
  });

  it('encodes all 65536 inputs exactly like the reference algorithm', () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    const encoded = mulawEncode(all);
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      const s = i - 32768;
      if (encoded[i] !== referenceEncode(s) || mulawEncodeSample(s) !== encoded[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('quantises within half a step, with error growing by segment', () => {
    for (let s = -32124; s <= 32124; s += 7) {
      const code = mulawEncodeSample(s);
      const decoded = mulawDecodeSample(code);
      const segment = 7 - ((code >> 4) & 7);
      // Interval width in 16-bit units; the 16 → 14-bit truncation adds up to 4 more.
      const step = 8 << segment;
      expect(Math.abs(decoded - s), `sample ${s}`).toBeLessThanOrEqual(step / 2 + 4);
    }
  });

  it('clamps and truncates out-of-range numbers', () => {
    expect(mulawEncodeSample(100_000)).toBe(0x80);
    expect(mulawEncodeSample(-100_000)).toBe(0x00);
    expect(mulawEncodeSample(Number.NaN)).toBe(0xff);
    expect(mulawEncodeSample(100.9)).toBe(mulawEncodeSample(100));
  });

  it('encodes into a caller-provided buffer without allocating', () => {
    const out = new Uint8Array(6);
    const view = mulawEncode(new Int16Array([0, -1, 32767, -32768]), out);
    expect(view.buffer).toBe(out.buffer);
    expect(Array.from(view)).toEqual([0xff, 0x7f, 0x80, 0x00]);
    expect(() => mulawEncode(new Int16Array(4), new Uint8Array(3))).toThrow(/output holds 3 bytes but 4/);
  });

  it('decodes into a caller-provided buffer without allocating', () => {
    const bytes = new Uint8Array([0x00, 0x7f, 0x80, 0xff]);
    const out = new Int16Array(8);
    const view = mulawDecode(bytes, out);
    expect(view.buffer).toBe(out.buffer);
    expect(Array.from(view)).toEqual([-32124, 0, 32124, 0]);
    expect(() => mulawDecode(bytes, new Int16Array(3))).toThrow(RangeError);
    expect(Array.from(mulawDecode(new Uint8Array(0)))).toEqual([]);
  });
});
