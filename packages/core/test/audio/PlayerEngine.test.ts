import { describe, expect, it } from 'vitest';
import { tone } from '../../../../testing/audio.ts';
import type { PlayerOutMessage } from '../../src/audio/worklets/messages.ts';
import { PlayerEngine } from '../../src/audio/worklets/PlayerEngine.ts';

const RATE = 48_000;
const QUANTUM = 128;

function setup(overrides: Partial<ConstructorParameters<typeof PlayerEngine>[0]> = {}) {
  const messages: PlayerOutMessage[] = [];
  const engine = new PlayerEngine({
    capacityFrames: RATE,
    initialJitterFrames: 1440, // 30 ms
    maxJitterFrames: 14_400,
    fadeFrames: 192, // 4 ms
    volume: 1,
    levelWindowFrames: 2400,
    post: (message) => messages.push(message),
    ...overrides,
  });
  let frame = 0;
  const output: number[] = [];
  const render = (quanta: number) => {
    const out = new Float32Array(QUANTUM);
    for (let q = 0; q < quanta; q++) {
      engine.render(out, frame);
      frame += QUANTUM;
      output.push(...out);
    }
  };
  return { engine, messages, render, output, frame: () => frame };
}

const of = (messages: PlayerOutMessage[], type: PlayerOutMessage['type']) =>
  messages.filter((m) => m.type === type);

describe('PlayerEngine', () => {
  it('plays pushed samples back to back, across pushes of any size, after the jitter target', () => {
    const { engine, messages, render, output } = setup();
    const signal = tone(1000, 0.2, RATE, 0.5);
    const sizes = [1, 127, 129, 5000, 3, 2000];
    let offset = 0;
    for (let i = 0; offset < signal.length; i++) {
      const size = sizes[i % sizes.length]!;
      engine.push(0, signal.slice(offset, offset + size));
      offset += size;
    }
    render(90);
    const started = of(messages, 'started');
    expect(started).toEqual([{ type: 'started', generation: 0, frame: 0 }]);
    expect(Float32Array.from(output.slice(0, signal.length))).toEqual(signal);
    expect(output.slice(signal.length).every((s) => s === 0)).toBe(true);
    expect(of(messages, 'drained')).toHaveLength(1);
    expect(engine.underruns).toBe(0);
  });

  it('waits for the jitter target before starting a trickle, but never longer than the target', () => {
    const { engine, messages, render } = setup();
    engine.push(0, new Float32Array(256).fill(0.1));
    render(11); // 1408 frames < 1440
    expect(of(messages, 'started')).toHaveLength(0);
    render(1);
    expect(of(messages, 'started')).toHaveLength(1);
  });

  it('interrupt(): a fade of fadeFrames, then exact silence; later pushes of the stream are dropped until newStream()', () => {
    const { engine, messages, render, output } = setup();
    engine.push(0, new Float32Array(RATE / 2).fill(0.5));
    render(20);
    const at = output.length;
    engine.interrupt(at);
    render(4);
    const fade = output.slice(at, at + 192);
    expect(fade[0]).toBeGreaterThan(0.49);
    // Monotonic fade: no click.
    for (let i = 1; i < fade.length; i++) expect(fade[i]!).toBeLessThanOrEqual(fade[i - 1]!);
    expect(output.slice(at + 192).every((s) => s === 0)).toBe(true);
    expect(of(messages, 'silenced')).toEqual([{ type: 'silenced', frame: at + 192 }]);

    expect(engine.push(0, new Float32Array(1000).fill(0.5))).toBe(false);
    render(20);
    expect(output.slice(at + 192).every((s) => s === 0)).toBe(true);

    engine.newStream(1, output.length);
    expect(engine.push(0, new Float32Array(1000).fill(0.5))).toBe(false);
    expect(engine.push(1, new Float32Array(2000).fill(0.25))).toBe(true);
    render(20);
    expect(of(messages, 'started').map((m) => (m.type === 'started' ? m.generation : -1))).toEqual([0, 1]);
    expect(output.slice(at + 192).filter((s) => s === 0.25)).toHaveLength(2000);
  });

  it('newStream() while the old stream plays: the old one fades out, the new one starts after it', () => {
    const { engine, render, output } = setup();
    engine.push(0, new Float32Array(RATE).fill(0.5));
    render(20);
    const at = output.length;
    engine.newStream(1, at);
    engine.push(1, new Float32Array(4800).fill(-0.25));
    render(60);
    const after = output.slice(at);
    // No sample of the old stream after the fade, and every sample of the new one.
    expect(after.slice(192).filter((s) => s > 0)).toHaveLength(0);
    expect(after.filter((s) => s === -0.25)).toHaveLength(4800);
  });

  it('an empty buffer followed by more of the same stream is an underrun, and the jitter target grows', () => {
    const { engine, messages, render } = setup();
    engine.push(0, new Float32Array(2000).fill(0.1));
    render(30);
    expect(of(messages, 'drained')).toHaveLength(1);
    engine.push(0, new Float32Array(2000).fill(0.1));
    expect(of(messages, 'underrun')).toHaveLength(1);
    expect(engine.jitterTargetFrames).toBe(2880);
    engine.endStream(0);
    render(30);
    engine.push(0, new Float32Array(10).fill(0.1));
    // After endStream, running dry is the end, not an underrun.
    expect(of(messages, 'underrun')).toHaveLength(1);
  });

  it('keeps audio beyond the ring capacity in order (overflow) and ramps volume changes', () => {
    const { engine, render, output } = setup({ capacityFrames: 1024, initialJitterFrames: 128 });
    const ramp = Float32Array.from({ length: 5000 }, (_, i) => i / 5000);
    engine.push(0, ramp);
    render(50);
    expect(Float32Array.from(output.slice(0, 5000))).toEqual(ramp);
    engine.setVolume(0);
    engine.push(0, new Float32Array(1000).fill(0.5));
    const at = output.length;
    render(10);
    const after = output.slice(at, at + 1000);
    expect(after[0]).toBeGreaterThan(0.49);
    expect(after.slice(192).every((s) => s === 0)).toBe(true);
  });
});
