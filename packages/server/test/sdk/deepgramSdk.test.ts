/**
 * Deepgram's own SDK (`@deepgram/sdk`, the version pinned in package.json), unmodified, holds Voice
 * Agent conversations with the local agent: `client.agent.v1.connect()` with `environment.agent`
 * pointed at it, `connect()` on the socket, `Settings`, speech from a microphone paced at real
 * time as binary frames (`sendMedia`), the agent's binary audio and events through
 * `on('message')`. The SDK reconnects on any close but 1000 and reports its own problems on the
 * console, which the tests watch.
 */
import { type Deepgram, DeepgramClient } from '@deepgram/sdk';
import { bytesToPcm16, pcm16ToFloat } from '@voicewire/core';
import { afterAll, afterEach, beforeAll, describe, expect, onTestFailed, test, vi } from 'vitest';
import { rmsDb } from '../../../../testing/audio.ts';
import { REPLY_TEXT } from '../../src/agent/response.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { normalise, startPacedMicrophone } from './pacedMicrophone.ts';

const KEY = 'dg-local-sdk-test';
const GREETING = 'Hello from the local agent.';
const GOODBYE = 'That is all for now. Goodbye!';
const IN_RATE = 16_000;
const OUT_RATE = 24_000;
const CLIENT_TIMEOUT_MS = 1_500;

let agent: LocalAgent;
let speech: Float32Array;
const agentLog: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY],
    deepgram: { clientTimeoutMs: CLIENT_TIMEOUT_MS },
    log: (line) => agentLog.push(line),
  });
  speech = normalise(
    await synthesizeSpeech('Testing one two three. Can you hear me?', { sampleRate: IN_RATE }),
  );
});

afterAll(async () => {
  await agent?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

let consoleOutput: string[] = [];

type Event = Record<string, unknown> & { type: string };
/** What the SDK delivered, in order: JSON events, and binary audio (filled in once its Blob is read). */
type Entry = { event: Event } | { audio: Uint8Array | undefined };

const SETTINGS: Deepgram.agent.AgentV1Settings = {
  type: 'Settings',
  audio: {
    input: { encoding: 'linear16', sample_rate: IN_RATE },
    output: { encoding: 'linear16', sample_rate: OUT_RATE, container: 'none' },
  },
  agent: {
    greeting: GREETING,
    listen: { provider: { type: 'deepgram', version: 'v1', model: 'nova-3' } },
    think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'You are a helpful agent.' },
    speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
  },
};

async function open(
  options: { client?: DeepgramClient; query?: Record<string, string>; reconnect?: boolean } = {},
) {
  consoleOutput = [];
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args) => void consoleOutput.push(args.map(String).join(' ')),
    );
  }
  const client = options.client ?? deepgram({ apiKey: KEY });
  const socket = await client.agent.v1.connect({
    ...(options.query ? { queryParams: options.query } : {}),
    ...(options.reconnect === false ? { shouldReconnect: () => false } : {}),
  });
  const entries: Entry[] = [];
  const closes: number[] = [];
  const errors: unknown[] = [];
  let opens = 0;
  socket.on('open', () => {
    opens++;
  });
  socket.on('message', (message: unknown) => {
    if (message instanceof Blob) {
      const entry: { audio: Uint8Array | undefined } = { audio: undefined };
      entries.push(entry);
      void message.arrayBuffer().then((buffer) => {
        entry.audio = new Uint8Array(buffer);
      });
    } else entries.push({ event: message as Event });
  });
  socket.on('close', (event: { code: number }) => void closes.push(event.code));
  socket.on('error', (error: unknown) => void errors.push(error));
  onTestFailed(() => {
    const shown = entries.map((e) => ('event' in e ? JSON.stringify(e.event).slice(0, 200) : '(audio)'));
    console.info(`received:\n${shown.join('\n')}\nagent log:\n${agentLog.join('\n')}`);
  });
  socket.connect();
  await socket.waitForOpen();
  const events = () => entries.flatMap((e) => ('event' in e ? [e.event] : []));
  return {
    socket,
    entries,
    closes,
    errors,
    get opens() {
      return opens;
    },
    events,
    of: (type: string) => events().filter((e) => e.type === type),
    /** The audio between the `n`th `AgentStartedSpeaking` and what follows it. */
    audioAfter(n: number): Float32Array {
      let seen = -1;
      const parts: Uint8Array[] = [];
      for (const entry of entries) {
        if ('event' in entry) {
          if (entry.event.type === 'AgentStartedSpeaking') seen++;
          else if (seen === n && entry.event.type !== 'ConversationText') break;
        } else if (seen === n && entry.audio) parts.push(entry.audio);
      }
      const bytes = Buffer.concat(parts);
      return pcm16ToFloat(bytesToPcm16(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    },
  };
}

function deepgram(options: { apiKey?: string; accessToken?: string }): DeepgramClient {
  const http = agent.origin.replace('ws://', 'http://');
  return new DeepgramClient({
    ...options,
    environment: { base: http, production: agent.origin, agent: agent.origin, agentRest: http },
  });
}

function assistantTexts(events: Event[]): string[] {
  return events
    .filter((e) => e.type === 'ConversationText' && e.role === 'assistant')
    .map((e) => String(e.content));
}

describe('@deepgram/sdk Voice Agent against the local agent', () => {
  test('Welcome, Settings, the greeting, a spoken turn answered, barge-in, and the agent hangs up with 1000', async () => {
    const call = await open({ query: { hangupAfterTurns: '1' } });
    const { socket } = call;
    let mic: ReturnType<typeof startPacedMicrophone> | undefined;
    try {
      await expect.poll(() => call.of('Welcome').length, { timeout: 10_000 }).toBe(1);
      expect(call.events()[0]).toEqual({
        type: 'Welcome',
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      socket.sendSettings(SETTINGS);
      await expect.poll(() => call.of('SettingsApplied').length, { timeout: 10_000 }).toBe(1);
      // The microphone streams from here on, silence included, as an app's does.
      mic = startPacedMicrophone((pcm) => socket.readyState === 1 && socket.sendMedia(pcm), IN_RATE, 20);

      // The greeting: its text, then its audio (16-bit PCM at 24 kHz), then AgentAudioDone.
      await expect.poll(() => call.of('AgentAudioDone').length, { timeout: 30_000 }).toBe(1);
      expect(assistantTexts(call.events())).toEqual([GREETING]);
      expect(call.of('AgentStartedSpeaking')[0]).toEqual({
        type: 'AgentStartedSpeaking',
        total_latency: expect.any(Number),
        tts_latency: expect.any(Number),
        ttt_latency: expect.any(Number),
      });
      await expect.poll(() => call.audioAfter(0).length / OUT_RATE, { timeout: 5_000 }).toBeGreaterThan(1);
      expect(rmsDb(call.audioAfter(0))).toBeGreaterThan(-30);

      // A spoken turn: the detector, the user's text, the agent thinking, then the reply.
      mic.say(speech);
      await expect.poll(() => assistantTexts(call.events()).length, { timeout: 20_000 }).toBe(2);
      const types = call.events().map((e) => e.type);
      const started = types.indexOf('UserStartedSpeaking');
      expect(started).toBeGreaterThan(types.indexOf('AgentAudioDone'));
      const user = call.of('ConversationText').find((e) => e.role === 'user')!;
      expect(user.content).toMatch(/^\(\d+\.\d s of speech\)$/);
      expect(call.of('AgentThinking').length).toBeGreaterThan(0);
      expect(assistantTexts(call.events())[1]).toBe(REPLY_TEXT);

      // Barge-in half a second into the reply: UserStartedSpeaking, and that reply's audio stops.
      await expect.poll(() => call.audioAfter(1).length / OUT_RATE, { timeout: 10_000 }).toBeGreaterThan(0.5);
      mic.say(speech);
      await expect.poll(() => call.of('UserStartedSpeaking').length, { timeout: 10_000 }).toBe(2);
      // Speech over the agent never gets that reply's AgentAudioDone.
      await expect.poll(() => assistantTexts(call.events()).length, { timeout: 20_000 }).toBe(3);
      expect(call.of('AgentAudioDone')).toHaveLength(1);
      expect(call.audioAfter(1).length / OUT_RATE).toBeLessThan(3);

      // The interrupting speech's reply plays out, then the goodbye, then 1000 (no reconnect).
      await expect.poll(() => call.closes, { timeout: 60_000 }).toEqual([1000]);
      expect(assistantTexts(call.events()).slice(-2)).toEqual([REPLY_TEXT, GOODBYE]);
      expect(call.of('AgentAudioDone')).toHaveLength(3);
      expect(call.opens).toBe(1);
      expect(call.of('Error')).toEqual([]);
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
      await expect.poll(() => agentLog.find((l) => l.includes('/v1/agent/converse'))).toBeDefined();
      expect(agentLog.find((l) => l.includes('/v1/agent/converse'))).toContain('closed by agent 1000');
    } finally {
      mic?.stop();
      socket.close();
    }
  });

  test('InjectUserMessage is answered, InjectAgentMessage is refused mid-reply unless it interrupts, UpdateSpeak is applied; KeepAlive holds a silent client, silence drops it', async () => {
    const call = await open({ reconnect: false });
    const { socket } = call;
    const openedAt = performance.now();
    // No microphone in this call: KeepAlive is all the agent hears between messages, as an app
    // that sends text only keeps its socket.
    const keepAlive = setInterval(() => {
      if (socket.readyState === 1) socket.sendKeepAlive({ type: 'KeepAlive' });
    }, CLIENT_TIMEOUT_MS / 4);
    try {
      socket.sendSettings({ ...SETTINGS, agent: { ...SETTINGS.agent, greeting: '' } });
      await expect.poll(() => call.of('SettingsApplied').length, { timeout: 10_000 }).toBe(1);
      socket.sendInjectUserMessage({ type: 'InjectUserMessage', content: 'What time is it?' });
      await expect
        .poll(() => assistantTexts(call.events()), { timeout: 30_000 })
        .toEqual(['You wrote: What time is it?']);
      expect(call.of('ConversationText')[0]).toEqual({
        type: 'ConversationText',
        role: 'user',
        content: 'What time is it?',
      });
      socket.sendInjectAgentMessage({ type: 'InjectAgentMessage', message: 'Wait for me.' });
      await expect.poll(() => call.of('InjectionRefused').length, { timeout: 5_000 }).toBe(1);
      socket.sendInjectAgentMessage({
        type: 'InjectAgentMessage',
        message: 'Sorry to cut in.',
        behavior: 'interrupt',
      });
      await expect
        .poll(() => assistantTexts(call.events()).at(-1), { timeout: 30_000 })
        .toBe('Sorry to cut in.');
      socket.sendUpdateSpeak({
        type: 'UpdateSpeak',
        speak: { provider: { type: 'deepgram', model: 'aura-2-apollo-en' } },
      });
      await expect.poll(() => call.of('SpeakUpdated').length, { timeout: 5_000 }).toBe(1);

      // No audio at all: KeepAlive alone has held the connection for more than twice the timeout…
      const heldFor = performance.now() - openedAt;
      if (heldFor < 2 * CLIENT_TIMEOUT_MS)
        await new Promise((resolve) => setTimeout(resolve, 2 * CLIENT_TIMEOUT_MS - heldFor));
      expect(call.closes).toEqual([]);
      // …and silence drops it, with Deepgram's error.
      clearInterval(keepAlive);
      await expect.poll(() => call.closes, { timeout: 10_000 }).toEqual([1011]);
      expect(call.of('Error').at(-1)).toEqual({
        type: 'Error',
        code: 'CLIENT_MESSAGE_TIMEOUT',
        description: expect.stringContaining('waited too long'),
      });
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      clearInterval(keepAlive);
      socket.close();
    }
  });

  test('a token granted by client.auth.v1.tokens.grant() connects as Bearer; a wrong key gets INVALID_AUTH and 1008', async () => {
    const granted = await deepgram({ apiKey: KEY }).auth.v1.tokens.grant({ ttl_seconds: 60 });
    expect(granted.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);
    expect(granted.expires_in).toBe(60);
    const good = await open({ client: deepgram({ accessToken: granted.access_token }), reconnect: false });
    try {
      await expect.poll(() => good.of('Welcome').length, { timeout: 10_000 }).toBe(1);
      good.socket.sendSettings({ ...SETTINGS, agent: { greeting: '' } });
      await expect.poll(() => good.of('SettingsApplied').length, { timeout: 10_000 }).toBe(1);
    } finally {
      good.socket.close();
    }
    await expect.poll(() => agentLog.some((l) => l.includes('auth=bearer'))).toBe(true);

    const bad = await open({ client: deepgram({ apiKey: 'dg-wrong' }), reconnect: false });
    await expect.poll(() => bad.closes, { timeout: 10_000 }).toEqual([1008]);
    expect(bad.events()).toEqual([{ type: 'Error', code: 'INVALID_AUTH', description: expect.any(String) }]);
  });
});
