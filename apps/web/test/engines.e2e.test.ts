import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../testing/engines.ts';
import { type EnginePage, type EngineServices, openEnginePage, startEngineServices } from './enginePage.ts';
import { AUDIBLE_RMS, demoUrl, SILENT_RMS, writeMicWav } from './helpers.ts';

/**
 * The key journeys of the demo page in the engines beside Chromium that its users have: Firefox
 * and WebKit (Safari's engine). Every engine hears the same speech WAV as its microphone. These
 * check that nothing engine-specific breaks a conversation. Chromium's are the other e2e files,
 * which go deeper along the same journeys (conversation, bargein, reconnect, and OpenAI Realtime
 * in providersAgent), so they are not repeated here.
 */
const ENGINES: Engine[] = ['firefox', 'webkit'];

const TALK = '[data-voicewire="talk-button"]';
const LONG_GREETING =
  'Welcome to the voicewire demo. This greeting is deliberately long, so that you have plenty of time ' +
  'to interrupt it: speak at any moment and I will stop talking right away and listen to you instead.';

/** Polls `expression` in the page until `accept` holds; fails with the last value. */
async function until<T>(
  page: EnginePage,
  expression: string,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await page.evaluate<T>(expression);
    if (accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${page.engine}: timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const STATE = 'window.__voicewire.getState()';
const LEVEL = 'window.__voicewire.getOutputLevel()';
const BUTTON_STATE = `document.querySelector('${TALK}').getAttribute('data-state')`;

interface Turn {
  role: string;
  text: string;
  interrupted?: boolean;
}

let agent: LocalAgent;
let mics: Record<'turn' | 'bargeInHeard' | 'reconnected', string>;

beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  mics = {
    turn: await writeMicWav('engines-turn', [
      { silenceS: 4 },
      { say: 'Hello there. What is the weather like today?' },
      { silenceS: 9 },
    ]),
    // Played once the greeting is heard (the input may open seconds after the click on a loaded
    // machine: timed from the click, the sentence could miss the greeting).
    bargeInHeard: await writeMicWav('engines-barge-in-heard', [
      { silenceS: 1 },
      { say: 'Sorry to interrupt, but I have a question.' },
      { silenceS: 12 },
    ]),
    // Played the moment the page is connected again: the agent drops every connection 3.5 s
    // after its setup, so the sentence and its end must fit in one connection.
    reconnected: await writeMicWav('engines-reconnected', [
      { silenceS: 0.2 },
      { say: 'Are you still there?' },
      { silenceS: 10 },
    ]),
  };
});

afterAll(async () => {
  await agent?.close();
});

describe.each(ENGINES)('%s', (engine) => {
  let services: EngineServices;
  let page: EnginePage | undefined;

  beforeAll(async () => {
    services = await startEngineServices(engine, 'e2e');
  });

  afterAll(async () => {
    await page?.close();
    await services?.stop();
  });

  async function start(
    micWav: string,
    settings: Record<string, string>,
    options: { deferMicrophone?: boolean } = {},
  ): Promise<EnginePage> {
    await page?.close();
    page = await openEnginePage(
      services,
      demoUrl({ server: agent.url, agentId: 'demo-agent', apiKey: 'local-dev-key', ...settings }),
      micWav,
    );
    expect(await page.evaluate(LEVEL)).toBe(0);
    await page.click(TALK);
    if (!options.deferMicrophone) page.startMicrophone();
    return page;
  }

  test('the greeting plays, the user is heard, the reply plays', async () => {
    const demo = await start(mics.turn, { greeting: 'Hello, I am listening.' });
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t[0]?.text.includes('Hello, I am listening') ?? false,
      30_000,
      'the greeting text',
    );
    await until<number>(demo, LEVEL, (level) => level > AUDIBLE_RMS, 30_000, 'the greeting audio');
    await until<string>(demo, BUTTON_STATE, (state) => state === 'userSpeaking', 30_000, 'the user speaking');
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t.some((turn) => turn.role === 'user' && /s of speech/.test(turn.text)),
      30_000,
      'the user turn',
    );
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t.filter((turn) => turn.role === 'agent').length >= 2,
      30_000,
      'the reply',
    );
    await until<number>(demo, LEVEL, (level) => level > AUDIBLE_RMS, 30_000, 'the reply audio');
    const stats = await demo.evaluate<{ framesSent: number; bytesReceived: number }>(
      'window.__voicewire.getStats()',
    );
    // At least the user's sentence went out as 20 ms frames (Firefox opens its PulseAudio input a
    // few seconds after the click on this loaded machine, so fewer frames precede the sentence).
    expect(stats.framesSent).toBeGreaterThan(25);
    expect(stats.bytesReceived).toBeGreaterThan(10_000);
    expect((await demo.evaluate<{ error: unknown }>(STATE)).error).toBeNull();
  });

  test('OpenAI Realtime through the same page: the greeting plays, the user is heard, the reply plays', async () => {
    // The provider switch in each engine: another vendor's wire (OpenAI Realtime's events at the
    // local agent's /v1/realtime, its key as a subprotocol, PCM16 at 24 kHz both ways), the same
    // capture, player and widget.
    const demo = await start(mics.turn, { provider: 'openai', server: `${agent.origin}/v1/realtime` });
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t[0]?.role === 'agent' && t[0].text.trim() !== '',
      30_000,
      'the greeting text',
    );
    await until<number>(demo, LEVEL, (level) => level > AUDIBLE_RMS, 30_000, 'the greeting audio');
    // OpenAI's server says when it hears the user start (input_audio_buffer.speech_started).
    await until<string>(demo, BUTTON_STATE, (state) => state === 'userSpeaking', 30_000, 'the user speaking');
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t.some((turn) => turn.role === 'user' && /s of speech/.test(turn.text)),
      30_000,
      'the user turn',
    );
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t.filter((turn) => turn.role === 'agent').length >= 2,
      30_000,
      'the reply',
    );
    await until<number>(demo, LEVEL, (level) => level > AUDIBLE_RMS, 30_000, 'the reply audio');
    const stats = await demo.evaluate<{ framesSent: number; bytesReceived: number }>(
      'window.__voicewire.getStats()',
    );
    expect(stats.framesSent).toBeGreaterThan(25);
    expect(stats.bytesReceived).toBeGreaterThan(10_000);
    expect((await demo.evaluate<{ error: unknown }>(STATE)).error).toBeNull();
  });

  test('speaking over the agent silences it and marks the turn interrupted', async () => {
    const demo = await start(mics.bargeInHeard, { greeting: LONG_GREETING }, { deferMicrophone: true });
    await until<number>(demo, LEVEL, (level) => level > AUDIBLE_RMS, 30_000, 'the greeting audio');
    // The user speaks over the agent once it is heard.
    demo.startMicrophone();
    await until<string>(demo, BUTTON_STATE, (state) => state === 'userSpeaking', 30_000, 'the user speaking');
    // Silent long before the greeting would have ended: still within the user's turn (checked
    // next, rather than by how fast a loaded machine notices the silence).
    await until<number>(demo, LEVEL, (level) => level < SILENT_RMS, 20_000, 'silence after the barge-in');
    expect(['userSpeaking', 'thinking']).toContain(await demo.evaluate(BUTTON_STATE));
    const turns = await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t[0]?.interrupted === true,
      20_000,
      'the interrupted greeting',
    );
    expect(LONG_GREETING.startsWith(turns[0]!.text.trim())).toBe(true);
    expect(turns[0]!.text.length).toBeLessThan(LONG_GREETING.length);
    // The interruption time is measured (it is reported by the worklet, late in WebKit under load).
    await until<number[]>(
      demo,
      'window.__voicewire.getStats().interruptionMs',
      (times) => times.length >= 1,
      20_000,
      'the interruption time',
    );
  });

  test('a dropped connection reconnects and the same conversation goes on', async () => {
    const demo = await start(
      mics.reconnected,
      {
        server: `${agent.url}?fault=drop:3500`,
        greeting: 'Hello again.',
      },
      { deferMicrophone: true },
    );
    const first = await until<string | null>(
      demo,
      `${STATE}.conversationId`,
      (id) => id !== null,
      30_000,
      'a conversation id',
    );
    await until<string>(
      demo,
      `${STATE}.status`,
      (status) => status === 'reconnecting',
      30_000,
      'reconnecting',
    );
    await until<string>(
      demo,
      `${STATE}.status`,
      (status) => status === 'connected',
      30_000,
      'connected again',
    );
    // The microphone starts now.
    demo.startMicrophone();
    await until<Turn[]>(
      demo,
      `${STATE}.transcript`,
      (t) => t.some((turn) => turn.role === 'user' && /s of speech/.test(turn.text)),
      45_000,
      'the user turn after the drop',
    );
    const state = await demo.evaluate<{ conversationId: string; transcript: Turn[] }>(STATE);
    expect(state.conversationId).toBe(first);
    expect(state.transcript.filter((turn) => turn.text.includes('Hello again')).length).toBe(1);
  });
});
