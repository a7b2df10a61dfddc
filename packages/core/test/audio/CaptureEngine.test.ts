import { mulawDecode, pcm16ToFloat } from '@voicewire/core';
import { describe, expect, it } from 'vitest';
import { concat, toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { CaptureEngine } from '../../src/audio/worklets/CaptureEngine.ts';
import type { CaptureOutMessage } from '../../src/audio/worklets/messages.ts';

function run(options: {
  contextRate: number;
  wireRate: number;
  encoding: 'linear16' | 'mulaw';
  frameMs: number;
  seconds: number;
}) {
  const frameSamples = (options.wireRate * options.frameMs) / 1000;
  const frames: ArrayBuffer[] = [];
  const levels: CaptureOutMessage[] = [];
  const engine = new CaptureEngine({
    contextRate: options.contextRate,
    wireRate: options.wireRate,
    encoding: options.encoding,
    frameSamples,
    muted: false,
    levelWindowFrames: options.contextRate / 20,
    poolSize: 4,
    post: (message) => {
      if (message.type === 'frame') {
        frames.push(message.buffer);
        // What the main thread does: copy out, hand the buffer back.
        const copy = message.buffer.slice(0);
        engine.recycle(message.buffer);
        frames[frames.length - 1] = copy;
      } else levels.push(message);
    },
  });
  const input = concat(tone(1000, options.seconds, options.contextRate, 0.25));
  for (let i = 0; i + 128 <= input.length; i += 128) engine.process(input.subarray(i, i + 128), 0);
  return { engine, frames, levels, frameSamples };
}

describe('CaptureEngine', () => {
  for (const [contextRate, wireRate] of [
    [48_000, 16_000],
    [44_100, 16_000],
    [48_000, 8000],
    [44_100, 24_000],
  ] as const) {
    for (const encoding of ['linear16', 'mulaw'] as const) {
      it(`${contextRate} → ${wireRate} ${encoding}: exact frames, the tone at its level, buffers reused`, () => {
        const { engine, frames, levels, frameSamples } = run({
          contextRate,
          wireRate,
          encoding,
          frameMs: 20,
          seconds: 1,
        });
        const bytesPerSample = encoding === 'linear16' ? 2 : 1;
        expect(frames.length).toBeGreaterThanOrEqual(48);
        expect(frames.every((f) => f.byteLength === frameSamples * bytesPerSample)).toBe(true);
        expect(engine.extraAllocations).toBe(0);
        const bytes = new Uint8Array(frames.length * frameSamples * bytesPerSample);
        for (const [i, f] of frames.entries()) bytes.set(new Uint8Array(f), i * f.byteLength);
        const samples =
          encoding === 'linear16'
            ? pcm16ToFloat(new Int16Array(bytes.buffer))
            : pcm16ToFloat(mulawDecode(bytes));
        const steady = samples.subarray(wireRate / 10);
        expect(Math.abs(toDb(toneAmplitude(steady, 1000, wireRate) / 0.25))).toBeLessThan(0.2);
        const level = levels.at(-1);
        expect(level?.type === 'level' && Math.abs(level.rms - 0.25 / Math.SQRT2)).toBeLessThan(0.01);
      });
    }
  }

  it('setFormat: from the next frame on, the new rate, encoding and size; the tone still at its level', () => {
    // 16 kHz linear16 (PlayAI's default), then what an ElevenLabs agent may announce: 8 kHz μ-law.
    const { engine, frames } = run({
      contextRate: 48_000,
      wireRate: 16_000,
      encoding: 'linear16',
      frameMs: 20,
      seconds: 0.5,
    });
    const before = frames.length;
    expect(before).toBeGreaterThanOrEqual(23);
    engine.setFormat({ wireRate: 8000, encoding: 'mulaw', frameSamples: 160 });
    const input = tone(1000, 1, 48_000, 0.25);
    for (let i = 0; i + 128 <= input.length; i += 128) engine.process(input.subarray(i, i + 128), 0);
    const after = frames.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(48);
    expect(frames.slice(0, before).every((f) => f.byteLength === 640)).toBe(true);
    expect(after.every((f) => f.byteLength === 160)).toBe(true);
    const bytes = new Uint8Array(after.length * 160);
    for (const [i, f] of after.entries()) bytes.set(new Uint8Array(f), i * 160);
    const samples = pcm16ToFloat(mulawDecode(bytes)).subarray(800);
    expect(Math.abs(toDb(toneAmplitude(samples, 1000, 8000) / 0.25))).toBeLessThan(0.3);
    // A buffer of the old size coming home is let go, not put in the new pool.
    engine.recycle(new ArrayBuffer(640));
    for (let i = 0; i < 48_000 * 0.1; i += 128) engine.process(input.subarray(0, 128), 0);
    expect(frames.slice(before).every((f) => f.byteLength === 160)).toBe(true);
    expect(engine.extraAllocations).toBe(0);
  });

  it('muted: same frames, all zero; the level report falls silent', () => {
    const frames: ArrayBuffer[] = [];
    const engine = new CaptureEngine({
      contextRate: 48_000,
      wireRate: 16_000,
      encoding: 'linear16',
      frameSamples: 320,
      muted: true,
      levelWindowFrames: 2400,
      post: (message) => {
        if (message.type === 'frame') frames.push(message.buffer);
      },
    });
    const input = tone(1000, 0.5, 48_000, 0.5);
    for (let i = 0; i + 128 <= input.length; i += 128) engine.process(input.subarray(i, i + 128), 0);
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.every((f) => new Int16Array(f).every((s) => s === 0))).toBe(true);
  });
});
