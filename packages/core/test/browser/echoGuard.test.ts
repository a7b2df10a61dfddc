import { type Capture, createCapture, createPlayer, type Player } from '@voicewire/core';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { voiceLike } from '../../../../testing/audio.ts';
import type { EchoGuardTuning } from '../../src/audio/worklets/echoGuardTuning.ts';
import { float32Bytes } from './harness.ts';

/**
 * The echo guard in the real capture worklet, in each engine: the player plays the agent's voice
 * and a "room" in the same AudioContext brings it back into the microphone (a DelayNode and a
 * gain into a MediaStreamAudioDestinationNode, whose stream is the capture's microphone), with
 * the user's voice mixed in over it from 4 s. The capture's reference is the player's output,
 * as the conversation connects it (`capture.setEchoReference(player.output)`).
 *
 * What the wire would carry is measured from the frames and their verdicts: a frame the guard
 * holds back goes out as silence. "Loud" is above -52 dBFS, what a voice detector hears at all;
 * the local agent's needs 60 ms (three frames) of it to start a turn.
 */
const CONTEXT_RATE = 48_000;
const WIRE_RATE = 16_000;
const AGENT_RATE = 24_000;
const FRAME_MS = 20;
const ROOM_DELAY_S = 0.12;
const USER_AT_S = 4;
const AGENT_S = 7;
const LOUD_DB = -52;

interface Frame {
  /** Context time just after the frame's last sample. */
  time: number;
  db: number;
  echo: boolean;
}

function frameDb(frame: Uint8Array): number {
  const pcm = new Int16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i]! / 32768) ** 2;
  return 10 * Math.log10(sum / pcm.length + 1e-14);
}

/** Energy mean of frames' levels, dB. */
function meanDb(levels: number[]): number {
  if (levels.length === 0) return -140;
  return 10 * Math.log10(levels.reduce((sum, db) => sum + 10 ** (db / 10), 0) / levels.length + 1e-14);
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * A call in the room: the agent talks for {@link AGENT_S} s, its echo comes back at `couplingDb`
 * after {@link ROOM_DELAY_S}, and the user (another voice) talks over it from {@link USER_AT_S} s
 * at `userDb` relative to the agent. Resolves with every frame once the agent is done.
 */
async function call(options: {
  couplingDb: number;
  userDb: number | null;
  reference: boolean;
  tuning?: Partial<EchoGuardTuning>;
}): Promise<{
  frames: Frame[];
  start: number;
}> {
  const context = new AudioContext({ sampleRate: CONTEXT_RATE });
  cleanup.push(() => context.close());
  await context.resume();
  const player: Player = await createPlayer({ format: 'raw', sampleRate: AGENT_RATE, context });
  cleanup.push(() => player.close());
  const microphone = context.createMediaStreamDestination();
  microphone.channelCount = 1;
  const delay = context.createDelay(1);
  delay.delayTime.value = ROOM_DELAY_S;
  const coupling = context.createGain();
  coupling.gain.value = 10 ** (options.couplingDb / 20);
  player.output!.connect(delay).connect(coupling).connect(microphone);
  const frames: Frame[] = [];
  const capture: Capture = await createCapture({
    context,
    sampleRate: WIRE_RATE,
    encoding: 'linear16',
    frameMs: FRAME_MS,
    echoCancellation: false,
    noiseSuppression: false,
    autoGainControl: false,
    getUserMedia: async () => microphone.stream,
    startTimeoutMs: 20_000,
    onFrame: (frame, info) =>
      frames.push({ time: info.captureTime, db: frameDb(frame), echo: info.echo === true }),
    ...(options.tuning ? { echoGuardTuning: options.tuning } : {}),
  });
  cleanup.push(() => capture.stop());
  if (options.reference) capture.setEchoReference!(player.output!);
  // The microphone's frames flow before anything is played (a first context may start late).
  await vi.waitFor(
    () => {
      if (frames.length < 10) throw new Error('no frames yet');
    },
    { timeout: 20_000, interval: 50 },
  );
  // The agent's voice. The call's start is when its echo reaches the microphone, on the audio
  // clock (the player starts when it has buffered enough, later on a loaded machine), so the
  // user's words fall on the same syllables of the agent's in every run.
  player.newStream();
  player.enqueue(
    float32Bytes(voiceLike({ seconds: AGENT_S, sampleRate: AGENT_RATE, seed: 7, levelDb: -20 })),
  );
  const heard = () => frames.find((f) => f.db > -100);
  await vi.waitFor(
    () => {
      if (heard() === undefined) throw new Error('no echo yet');
    },
    { timeout: 20_000, interval: 20 },
  );
  const start = heard()!.time - FRAME_MS / 1000;
  if (options.userDb !== null) {
    const user = voiceLike({
      seconds: 2.5,
      sampleRate: CONTEXT_RATE,
      seed: 99,
      pitchHz: [170, 240],
      levelDb: -20,
    });
    const buffer = context.createBuffer(1, user.length, CONTEXT_RATE);
    buffer.getChannelData(0).set(user);
    const source = context.createBufferSource();
    source.buffer = buffer;
    const gain = context.createGain();
    gain.gain.value = 10 ** (options.userDb / 20);
    source.connect(gain).connect(microphone);
    source.start(start + USER_AT_S);
  }
  // The whole call, and the echo of its end, captured (a loaded machine renders late: waited for).
  await vi.waitFor(
    () => {
      if (context.currentTime < start + AGENT_S + 1) throw new Error('still talking');
    },
    { timeout: 30_000, interval: 100 },
  );
  return { frames: frames.filter((f) => f.time >= start), start };
}

/** Frames whose end falls in [fromS, toS) after the call's start. */
function span(frames: Frame[], start: number, fromS: number, toS: number): Frame[] {
  return frames.filter((f) => f.time - start >= fromS && f.time - start < toS);
}

/** The longest run of consecutive loud frames that went out (not held back). */
function longestLoudRun(frames: Frame[]): number {
  let longest = 0;
  let run = 0;
  for (const f of frames) {
    run = !f.echo && f.db > LOUD_DB ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

// Firefox gives a MediaStreamAudioSourceNode nothing from a MediaStreamAudioDestinationNode's
// stream of the same context (the capture reports "sends no audio"), so the room cannot be built
// there; the guard's code is the same worklet in every engine.
describe.skipIf(inject('engine') === 'firefox')(
  'the echo guard in the capture worklet (the player’s output as its reference)',
  () => {
    it('holds back the raw echo of the agent: ≥ 40 dB less echo on the wire, never 60 ms of it', async () => {
      const { frames, start } = await call({ couplingDb: 0, userDb: null, reference: true });
      // From a second after the echo is first heard (the room learned; the player may start late on
      // a loaded machine) until the agent's voice ends.
      const onset = frames.find((f) => f.db > LOUD_DB)!.time - start;
      const echoOnly = span(frames, start, onset + 1, onset + AGENT_S - 0.5);
      expect(echoOnly.length).toBeGreaterThan(100);
      const raw = meanDb(echoOnly.map((f) => f.db));
      const sent = meanDb(echoOnly.map((f) => (f.echo ? -140 : f.db)));
      expect(raw).toBeGreaterThan(-35);
      expect(raw - sent).toBeGreaterThanOrEqual(40);
      expect(longestLoudRun(echoOnly)).toBeLessThan(3);
    });

    // A user 10 dB quieter than the agent is not let through reliably yet here (the core README,
    // "Echo guard"); the unit tests hold the guard to it on a canceller at -40 dB.
    //
    // The guard starts out assuming the canceller may leak the raw echo lifted 20 dB by auto gain
    // (`leakPriorDb`), and forgets that at 0.5 dB/s: four seconds into a call, only a user 26 dB
    // over the agent stands out of it. Here the guard starts as it stands once that is forgotten
    // (40 s into a call with a canceller that does not leak), as the unit tests' barge-ins do.
    async function bargeIn(userDb: number) {
      const { frames, start } = await call({
        couplingDb: -30,
        userDb,
        reference: true,
        tuning: { leakPriorDb: 0 },
      });
      // No false barge-in before the user speaks.
      expect(longestLoudRun(span(frames, start, 0.5, USER_AT_S)), `${userDb} dB`).toBeLessThan(3);
      const speech = span(frames, start, USER_AT_S, USER_AT_S + 2.5);
      const words = speech.filter((f) => f.db > -40);
      expect(words.length, `${userDb} dB`).toBeGreaterThan(10);
      const firstWordAt = words[0]!.time;
      return {
        words,
        /** The longest run of loud frames passed within 300 ms of the user's first word. */
        runWithin300Ms: longestLoudRun(
          speech.filter((f) => f.time >= firstWordAt && f.time < firstWordAt + 0.3),
        ),
        passedShare: words.filter((f) => !f.echo).length / words.length,
      };
    }

    // Not yet in WebKit: there the opt-in guard holds back the first word, or lets through less
    // than 60 ms in a row within 300 ms, in about half the runs (the core README, "Echo guard";
    // its figures on the echo rig say the same). Chromium holds it to this in every run.
    it.skipIf(inject('engine') === 'webkit')(
      'lets the user talking over the agent at its level through at once (a canceller’s residual at -30 dB)',
      async () => {
        const { words, runWithin300Ms, passedShare } = await bargeIn(0);
        expect(words[0]!.echo, 'first word held back').toBe(false);
        // 60 ms in a row (what a voice detector needs) within 300 ms, and most of the rest.
        expect(runWithin300Ms).toBeGreaterThanOrEqual(3);
        expect(passedShare).toBeGreaterThan(0.65);
      },
    );

    it('holds nothing back without a reference', async () => {
      const { frames } = await call({ couplingDb: 0, userDb: null, reference: false });
      expect(frames.length).toBeGreaterThan(150);
      expect(frames.filter((f) => f.echo)).toEqual([]);
    });
  },
);
