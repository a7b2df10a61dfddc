import { describe, expect, it } from 'vitest';
import {
  bytesToFloat32,
  bytesToPcm16,
  float32ToBytes,
  floatToPcm16,
  pcm16ToBytes,
  pcm16ToFloat,
} from '../../src/index.ts';

describe('floatToPcm16 / pcm16ToFloat', () => {
  it('maps full scale, clips beyond it and silences NaN', () => {
    const input = new Float32Array([
      0,
      1,
      -1,
      0.5,
      -0.5,
      2,
      -2,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      -0,
    ]);
    expect(Array.from(floatToPcm16(input))).toEqual([
      0, 32767, -32768, 16384, -16384, 32767, -32768, 32767, -32768, 0, 0,
    ]);
  });

  it('rounds to the nearest step', () => {
    expect(
      Array.from(floatToPcm16(new Float32Array([1 / 32767, 0.4 / 32767, 0.6 / 32767, -0.6 / 32768]))),
    ).toEqual([1, 0, 1, -1]);
  });

  it('converts back by dividing by 32768', () => {
    expect(Array.from(pcm16ToFloat(new Int16Array([-32768, 0, 16384, 32767])))).toEqual([
      -1,
      0,
      0.5,
      32767 / 32768,
    ]);
  });

  it('round-trips within half a step', () => {
    const samples = new Float32Array(10_000);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i * 0.37) * 0.99;
    const back = pcm16ToFloat(floatToPcm16(samples));
    for (let i = 0; i < samples.length; i++)
      expect(Math.abs(back[i]! - samples[i]!)).toBeLessThan(1.5 / 32768);
  });

  it('writes into caller buffers', () => {
    const out = new Int16Array(4);
    const view = floatToPcm16(new Float32Array([0.5, -0.5]), out);
    expect(view.buffer).toBe(out.buffer);
    expect(view.length).toBe(2);
    const fout = new Float32Array(2);
    expect(pcm16ToFloat(new Int16Array([16384, -16384]), fout)).toBe(fout);
    expect(() => floatToPcm16(new Float32Array(3), new Int16Array(2))).toThrow(RangeError);
    expect(() => pcm16ToFloat(new Int16Array(3), new Float32Array(2))).toThrow(
      /output holds 2 samples but 3/,
    );
  });
});

describe('little-endian byte helpers', () => {
  it('writes 16-bit samples little-endian', () => {
    expect(Array.from(pcm16ToBytes(new Int16Array([0x0102, -2, -32768])))).toEqual([
      0x02, 0x01, 0xfe, 0xff, 0x00, 0x80,
    ]);
  });

  it('reads 16-bit samples little-endian, from any offset', () => {
    const backing = new Uint8Array([0xaa, 0x02, 0x01, 0xfe, 0xff]);
    expect(Array.from(bytesToPcm16(backing.subarray(1)))).toEqual([0x0102, -2]);
    expect(() => bytesToPcm16(new Uint8Array(3))).toThrow(/3 bytes is not a whole number of 16-bit samples/);
  });

  it('handles a view into a larger Int16Array', () => {
    const pcm = new Int16Array([1, 2, 3, 4]).subarray(1, 3);
    expect(Array.from(pcm16ToBytes(pcm))).toEqual([2, 0, 3, 0]);
  });

  it('writes and reads float32 little-endian', () => {
    const bytes = float32ToBytes(new Float32Array([1, -2.5]));
    expect(Array.from(bytes)).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
    const odd = new Uint8Array(9);
    odd.set(bytes, 1);
    expect(Array.from(bytesToFloat32(odd.subarray(1)))).toEqual([1, -2.5]);
    expect(() => bytesToFloat32(new Uint8Array(6))).toThrow(
      /6 bytes is not a whole number of 4-byte float samples/,
    );
  });
});
