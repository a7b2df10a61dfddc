import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { voiceLike } from '../../../../testing/audio.ts';
import { EchoGuard } from '../../src/audio/worklets/EchoGuard.ts';

/**
 * The echo guard's DSP in Node, on synthetic rooms: the agent's voice (the reference) comes back
 * into the microphone at a coupling and a delay; a user talks over it, at the agent's level or
 * 10 dB under. Frames of 20 ms at 48 kHz, judged as the capture worklet judges them (after the
 * render quanta of 128 samples that complete them). "Loud" is above -52 dBFS: what the local
 * agent's voice detector can hear at all; it needs 60 ms of it to start a turn.
 */
const RATE = 48_000;
const FRAME = RATE / 50;
const LOUD_DB = -52;

const agent = voiceLike({ seconds: 65, sampleRate: RATE, seed: 7, levelDb: -20 });
const user = voiceLike({ seconds: 2.5, sampleRate: RATE, seed: 99, pitchHz: [170, 240], levelDb: -20 });

function levelDb(signal: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += (signal[i] ?? 0) ** 2;
  return 10 * Math.log10(sum / length + 1e-14);
}

/** The microphone: the agent's voice `delayMs` later at `couplingDb`, for `seconds`. */
function echo(couplingDb: number, delayMs: number, seconds = 65): Float32Array {
  const delay = Math.round((delayMs / 1000) * RATE);
  const gain = 10 ** (couplingDb / 20);
  const mic = new Float32Array(Math.round(seconds * RATE));
  for (let i = delay; i < mic.length; i++) mic[i] = gain * agent[i - delay]!;
  return mic;
}

/** Runs the guard; `echo[f]` is its verdict on frame f (true: held back). */
function judge(reference: Float32Array, mic: Float32Array): { echo: boolean[]; guard: EchoGuard } {
  const guard = new EchoGuard(RATE);
  const verdicts: boolean[] = [];
  let frameEnd = FRAME;
  for (let k = 0; k + 128 <= mic.length; k += 128) {
    guard.process(mic.subarray(k, k + 128), reference.subarray(k, k + 128));
    if (k + 128 >= frameEnd) {
      verdicts.push(guard.judgeFrame());
      frameEnd += FRAME;
    }
  }
  return { echo: verdicts, guard };
}

/** Frames the guard let through while they were loud enough for a voice detector. */
function loudPassed(mic: Float32Array, verdicts: boolean[], from = 0, to = verdicts.length): number[] {
  const frames: number[] = [];
  for (let f = from; f < to; f++)
    if (!verdicts[f] && levelDb(mic, f * FRAME, FRAME) > LOUD_DB) frames.push(f);
  return frames;
}

/** The user's loud frames over the echo from `atS`, and how the guard judged them. */
function talkOver(couplingDb: number, userDb: number, atS: number) {
  const mic = echo(couplingDb, 200, atS + 3);
  const start = Math.round(atS * RATE);
  const gain = 10 ** (userDb / 20);
  for (let i = 0; i < user.length; i++) mic[start + i]! += gain * user[i]!;
  const { echo: verdicts } = judge(agent, mic);
  const frames: number[] = [];
  for (let f = Math.ceil(start / FRAME); f < (start + user.length) / FRAME; f++) {
    if (levelDb(user, f * FRAME - start, FRAME) + userDb > -45) frames.push(f);
  }
  const firstPassed = verdicts.findIndex((held, f) => f >= frames[0]! && !held);
  return {
    firstPassedMs: (firstPassed - frames[0]!) * 20,
    passedShare: frames.filter((f) => !verdicts[f]).length / frames.length,
  };
}

describe('EchoGuard', () => {
  for (const couplingDb of [-40, -20, 0, 10]) {
    it(`holds back an echo at ${couplingDb} dB whatever its delay (20–500 ms)`, () => {
      for (const delayMs of [20, 120, 300, 500]) {
        const mic = echo(couplingDb, delayMs, 20);
        const { echo: verdicts } = judge(agent, mic);
        const passed = loudPassed(mic, verdicts);
        // The very first rise passes its probation (40 ms: no detector starts on it); then
        // nothing: the level is learned.
        expect(passed.length, `${delayMs} ms`).toBeLessThanOrEqual(2);
        expect(
          passed.every((f) => f * 20 < 1000),
          `${delayMs} ms`,
        ).toBe(true);
      }
    });
  }

  it('holds back a canceller leaking the raw echo, even lifted 10 dB by auto gain, after 30 s of it working', () => {
    for (const liftDb of [0, 10]) {
      const mic = echo(-40, 200, 32);
      const delay = Math.round(0.2 * RATE);
      const from = 30 * RATE;
      const to = from + Math.round(0.3 * RATE);
      for (let i = from; i < to; i++) mic[i] = 10 ** (liftDb / 20) * agent[i - delay]!;
      const { echo: verdicts } = judge(agent, mic);
      expect(levelDb(mic, from, to - from)).toBeGreaterThan(-30);
      // 300 ms of leak; at most its first 40 ms pass.
      expect(
        loudPassed(mic, verdicts, from / FRAME - 5, to / FRAME + 5).length,
        `${liftDb} dB`,
      ).toBeLessThanOrEqual(2);
    }
  });

  it('lets a user talking over the agent through at once (a canceller working)', () => {
    const normal = talkOver(-40, 0, 50);
    expect(normal.firstPassedMs).toBe(0);
    expect(normal.passedShare).toBeGreaterThan(0.65);
    // 10 dB quieter than the agent: the first frames at once, and a share of the rest.
    const quiet = talkOver(-40, -10, 50);
    expect(quiet.firstPassedMs).toBe(0);
    expect(quiet.passedShare).toBeGreaterThan(0.3);
  });

  it('lets a user through over the raw echo (no canceller) where their voice stands out of it', () => {
    const normal = talkOver(0, 0, 50);
    expect(normal.firstPassedMs).toBeLessThan(500);
    expect(normal.passedShare).toBeGreaterThan(0.8);
  });

  it('changes nothing while the agent is silent', () => {
    const mic = new Float32Array(5 * RATE);
    mic.set(user, RATE);
    const { echo: verdicts, guard } = judge(new Float32Array(mic.length), mic);
    expect(verdicts.filter(Boolean)).toEqual([]);
    expect(guard.agentAudible).toBe(false);
  });

  it('frees the microphone once the echo of the agent’s last words is over', () => {
    const reference = agent.slice(0, 5 * RATE);
    reference.fill(0, 3 * RATE);
    const mic = new Float32Array(5 * RATE);
    const delay = Math.round(0.25 * RATE);
    for (let i = delay; i < mic.length; i++) mic[i] = reference[i - delay]!;
    mic.set(user.subarray(0, RATE), 4 * RATE);
    const { echo: verdicts } = judge(reference, mic);
    // The echo tail (until 3.25 s) is held; from 3.9 s (the 600 ms of delays considered) the
    // user passes untouched.
    expect(loudPassed(mic, verdicts, 50, 163).length).toBeLessThanOrEqual(2);
    expect(verdicts.slice(195, 250).filter(Boolean)).toEqual([]);
  });

  it('learns the room: the coupling within a second, the delay within a few', () => {
    const mic = echo(-20, 150, 5);
    const guard = new EchoGuard(RATE);
    for (let k = 0; k + 128 <= RATE; k += 128)
      guard.process(mic.subarray(k, k + 128), agent.subarray(k, k + 128));
    // The upper envelope of the echo over the reference's peak: a few dB around the coupling.
    expect(guard.couplingDb).toBeGreaterThan(-26);
    expect(guard.couplingDb).toBeLessThan(-14);
    for (let k = RATE; k + 128 <= 5 * RATE; k += 128)
      guard.process(mic.subarray(k, k + 128), agent.subarray(k, k + 128));
    expect(guard.delayMs).not.toBeNull();
    expect(Math.abs(guard.delayMs! - 150)).toBeLessThanOrEqual(20);
  });

  it('allocates next to nothing while it runs (no arrays, nothing per band)', () => {
    // In a fresh Node process: the test runner's own work shares this one's heap.
    const fixture = new URL('./echoGuardAllocation.fixture.ts', import.meta.url).pathname;
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
      cwd: new URL('../../../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const { grown } = JSON.parse(output) as { grown: number[] };
    expect(grown).toHaveLength(3);
    // 1000 hops a span. What remains (~20 KB here) is about one number a hop that the engine
    // boxes at a call it did not inline: young-generation garbage, cheap to collect. A typed
    // array a hop (≥ 100 B with its buffer) or a number per band a hop (20 × 16 B) would be
    // ≥ 100 KB more.
    expect(Math.min(...grown), grown.join(' ')).toBeLessThan(64 * 1024);
  });
});
