import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EchoRig, startEchoRig } from '../../../testing/echoRig.ts';
import { type Engine, PULSE_RATE } from '../../../testing/engines.ts';
import { type ServedPage, servePage } from '../../../testing/servePage.ts';
import type { BargeInResult, EchoEvent, EchoState, UplinkLevels } from './echoPage.ts';
import { LONG_REPLY, MINUTE_GREETING, QUIET_DB, userSpeech } from './echoScript.ts';

/**
 * Speakers, not headphones (issue 21): in every engine, the agent's voice comes back into the
 * microphone at full level 40 ms later (testing/echoRig.ts) and the library's default capture
 * (echo cancellation, noise suppression, auto gain) with its echo guard must keep the agent
 * from interrupting itself, yet hear a user who talks over it.
 *
 * - A minute of the agent talking with nobody else: no `voiceActivityStart`.
 * - The user talking over the agent at a normal level and 10 dB quieter: heard within 300 ms of
 *   the browser capturing their first word, the guard adding at most 20 ms (the local agent's
 *   detector on the same microphone with and without the guard's holding back, frame-exact).
 *
 * Guard-off figures (how often the agent interrupts itself without it) are `pnpm bench echo`'s.
 *
 * Run with `pnpm test:echo` (not part of `npm test`): these are the guard's targets, and not all
 * are met yet (Chromium: the 10 dB quieter barge-in; Firefox: self-interruptions in the
 * greeting's first seconds and both barge-ins); the core README's "Echo guard" has the figures.
 */
const ENGINES: Engine[] = ['chromium', 'firefox', 'webkit'];
const AGENT = 'echo-agent';
const API_KEY = 'echo-key';
const MINUTE_MS = 60_000;
const HEARD_WITHIN_MS = 300;
const ADDED_DELAY_MS = 20;

let agent: LocalAgent;
let page: ServedPage;
let voices: { normal: Float32Array; quiet: Float32Array };

beforeAll(async () => {
  agent = await startLocalAgent({ log: false, apiKeys: [API_KEY] });
  page = await servePage(new URL('./echoPage.ts', import.meta.url).pathname, 'echo');
  voices = { normal: await userSpeech(PULSE_RATE), quiet: await userSpeech(PULSE_RATE, QUIET_DB) };
  // Rendered now, so the greeting starts the moment a call does (the agent shares the cache).
  await synthesizeSpeech(MINUTE_GREETING, { sampleRate: 24_000 });
});

afterAll(async () => {
  await page?.close();
  await agent?.close();
});

async function until<T>(
  rig: EchoRig,
  step: string,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await rig.call<T>(step);
    if (accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${rig.engine}: timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const speaking = (state: EchoState) => state.mode === 'agentSpeaking' && state.outputLevel > 0.003;

describe.each(ENGINES)('%s', (engine) => {
  let rig: EchoRig;

  beforeAll(async () => {
    rig = await startEchoRig(engine, 'echo', page.url, 'echoRig');
    await rig.call('start', {
      url: agent.url,
      agentId: AGENT,
      apiKey: API_KEY,
      greeting: MINUTE_GREETING,
      echoGuard: true,
    });
  });

  afterAll(async () => {
    await rig?.call('stop').catch(() => {});
    await rig?.stop();
  });

  /**
   * The agent talks (the greeting, or a long reply asked for when it is over) and the user says
   * their sentence into the microphone; resolves with what the page measured.
   */
  async function bargeIn(voice: Float32Array): Promise<BargeInResult> {
    const state = await rig.call<EchoState>('state');
    const talking = (s: EchoState) =>
      speaking(s) && (s.agentText === MINUTE_GREETING || s.agentText.endsWith(LONG_REPLY));
    if (!talking(state)) {
      // Past the user's last turn (its end), then the long reply.
      await until<EchoState>(rig, 'state', (s) => s.mode !== 'userSpeaking', 15_000, 'the last turn to end');
      await rig.call('say', LONG_REPLY);
      await until<EchoState>(rig, 'state', talking, 30_000, 'the long reply');
    }
    // Well into the agent's sentence, not at its first syllable.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const armedAt = await rig.call<number>('arm');
    rig.sound.play(voice);
    await until<EchoEvent[]>(
      rig,
      'events',
      (events) => events.some((e) => e.type === 'voiceActivityStart' && e.at >= armedAt),
      10_000,
      'voiceActivityStart after the user spoke',
    );
    // The detectors' verdicts come with the frames that follow (WebKit delivers them late).
    return until<BargeInResult>(
      rig,
      'bargeIn',
      (r) => r.rawDetectedMs !== null && r.guardedDetectedMs !== null && r.heardMs !== null,
      10_000,
      'both detectors to hear the user',
    );
  }

  test('a minute of the agent talking with nobody else: it never interrupts itself', async () => {
    await until(rig, 'state', speaking, 30_000, 'the greeting');
    await new Promise((resolve) => setTimeout(resolve, MINUTE_MS));
    const events = await rig.call<EchoEvent[]>('events');
    const uplink = await rig.call<UplinkLevels>('uplink');
    const stats = await rig.call<{ framesHeldBack: number }>('stats');
    console.log(
      `${engine}: a minute of the agent: uplink ${JSON.stringify(uplink)}, ${stats.framesHeldBack} frames held back`,
    );
    const cuts = events.filter((e) => e.type === 'voiceActivityStart');
    if (cuts.length > 0)
      console.log(`${engine}: diagnostics ${JSON.stringify(await rig.call('diagnostics'))}`);
    expect(cuts).toEqual([]);
    // It talked all along (the greeting is longer than a minute), and the guard had work to do.
    expect(speaking(await rig.call('state'))).toBe(true);
    expect(stats.framesHeldBack).toBeGreaterThan(0);
  });

  test('the user talking over the agent at a normal level is heard at once', async () => {
    const result = await bargeIn(voices.normal);
    console.log(`${engine}: barge-in, normal level: ${JSON.stringify(result)}`);
    expect(result.heardMs!).toBeLessThanOrEqual(HEARD_WITHIN_MS);
    expect(result.addedMs!).toBeLessThanOrEqual(ADDED_DELAY_MS);
  });

  test('the user talking over the agent 10 dB quieter is heard at once', async () => {
    const result = await bargeIn(voices.quiet);
    console.log(`${engine}: barge-in, 10 dB quieter: ${JSON.stringify(result)}`);
    console.log(`${engine}: diagnostics ${JSON.stringify(await rig.call('diagnostics'))}`);
    expect(result.heardMs!).toBeLessThanOrEqual(HEARD_WITHIN_MS);
    expect(result.addedMs!).toBeLessThanOrEqual(ADDED_DELAY_MS);
  });
});
