/**
 * Driving a call on the echo rig from Node, shared by the echo suite (echo.test.ts) and
 * `pnpm bench echo` (scripts/bench/echo.ts): waiting on the page's state, and a barge-in (the
 * user's sentence played into the microphone while the agent talks) measured by bargeIn.ts.
 */
import type { EchoRig } from '../../../testing/echoRig.ts';
import { type BargeInResult, measureBargeIn, type UserVoice, userVoice } from './bargeIn.ts';
import type { BargeInCapture, EchoState } from './echoPage.ts';
import { LONG_REPLY, MINUTE_GREETING, userSpeech } from './echoScript.ts';

/** The capture's rate on PlayAI's default input format (the page's frames). */
export const CAPTURE_RATE = 16_000;

/** The user's sentence as the rig plays it (at the sound server's rate) and as the capture hears it. */
export interface UserSentence {
  played: Float32Array;
  heard: UserVoice;
}

export async function userSentence(playRate: number, gainDb = 0): Promise<UserSentence> {
  return {
    played: await userSpeech(playRate, gainDb),
    heard: userVoice(await userSpeech(CAPTURE_RATE, gainDb), CAPTURE_RATE),
  };
}

/** Poll `step` in the page every 50 ms until `accept`; throws after `timeoutMs` saying what it waited for. */
export async function until<T>(
  rig: EchoRig,
  step: string,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await rig.call<T>(step);
    if (accept(last)) return last;
    if (Date.now() > deadline) {
      const shown = JSON.stringify(last);
      throw new Error(
        `${rig.engine}: timed out waiting for ${what} (last: ${shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The agent audible now. */
export const speaking = (state: EchoState) => state.mode === 'agentSpeaking' && state.outputLevel > 0.003;

/**
 * The agent talks (the greeting, or a long reply asked for when it is not) and the user says
 * their sentence into the microphone; resolves with the barge-in's figures (what never came,
 * such as the agent hearing the user, is null in them).
 */
export async function bargeIn(rig: EchoRig, sentence: UserSentence): Promise<BargeInResult> {
  const talking = (s: EchoState) =>
    speaking(s) && (s.agentText === MINUTE_GREETING || s.agentText.endsWith(LONG_REPLY));
  if (!talking(await rig.call<EchoState>('state'))) {
    // Past the user's last turn (its end), then the long reply.
    await until<EchoState>(rig, 'state', (s) => s.mode !== 'userSpeaking', 15_000, 'the last turn to end');
    await rig.call('say', LONG_REPLY);
    await until<EchoState>(rig, 'state', talking, 30_000, 'the long reply');
  }
  // Well into the agent's sentence, not at its first syllable.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await rig.call<number>('arm');
  const armedAt = Date.now();
  const played = rig.voice.say(sentence.played).then(() => Date.now());
  // Every detector's verdict and the agent's own message, once they have come (WebKit delivers
  // frames late under load).
  const complete = (c: BargeInCapture) =>
    c.rawDetectedSample !== null &&
    c.guardedDetectedSample !== null &&
    c.uplinkDetectedSamples.length > 0 &&
    c.heardAt.length > 0;
  await until<BargeInCapture>(rig, 'bargeIn', complete, 15_000, 'the user to be heard').catch(() => null);
  // The whole sentence in the recording (frames come late under load), for finding where it began.
  const handedAt = await played;
  // Everything handed to the sound server so far captured, with a second to spare (its buffers
  // and the pipe's).
  const playedSamples = ((Date.now() - armedAt + 1000) / 1000) * sentence.heard.sampleRate;
  const recorded = (c: BargeInCapture) => c.heldBack.length * c.frameSamples >= playedSamples;
  await until<BargeInCapture>(rig, 'bargeIn', recorded, 10_000, 'the sentence recorded').catch(() => null);
  // The sentence began playing at most its length before it was all handed over, plus the feed's
  // buffers (the pipe's and the sound server's, under a second).
  const sentenceMs = (sentence.heard.samples.length / sentence.heard.sampleRate) * 1000;
  const latestOnsetMs = handedAt - armedAt - sentenceMs + 1500;
  return measureBargeIn(await rig.call<BargeInCapture>('bargeIn', true), sentence.heard, latestOnsetMs);
}
