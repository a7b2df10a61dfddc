/**
 * Hume's own SDK (`hume`, the version pinned in package.json), unmodified, holds EVI chats with
 * the local agent: `new HumeClient({ environment: 'http://127.0.0.1:PORT' })`,
 * `empathicVoice.chat.connect()`, session settings for 16-bit PCM, speech from a microphone
 * paced at real time as `sendAudioInput`, and the agent's messages through `on('message')`.
 * The SDK checks every server message against its schema and prints "Failed to validate" for
 * one that misses a required field: any console output fails the test.
 */

import { encodeBase64 } from '@voicewire/core';
import { HumeClient } from 'hume';
import { afterAll, afterEach, beforeAll, describe, expect, onTestFailed, test, vi } from 'vitest';
import { concat, decodeWav16, rmsDb } from '../../../../testing/audio.ts';
import { REPLY_TEXT } from '../../src/agent/response.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { normalise, startPacedMicrophone } from './pacedMicrophone.ts';

const KEY = 'hume-local-sdk-test';
const SECRET = 'hume-secret';
const CONFIG = 'evi-config-1';
const GREETING = 'Hello from the local agent.';
const GOODBYE = 'That is all for now. Goodbye!';
const IN_RATE = 16_000;

let agent: LocalAgent;
let speech: Float32Array;
const agentLog: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({ apiKeys: [KEY], greeting: GREETING, log: (line) => agentLog.push(line) });
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

/** A message as the SDK hands it over: parsed by its schema, in camelCase. */
type Message = Record<string, unknown> & { type: string };

function http(): string {
  return agent.origin.replace('ws://', 'http://');
}

async function chat(
  options: {
    auth?: { apiKey: string } | { accessToken: string };
    query?: Record<string, string>;
    resumedChatGroupId?: string;
    reconnectAttempts?: number;
  } = {},
) {
  consoleOutput = [];
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args) => void consoleOutput.push(args.map(String).join(' ')),
    );
  }
  const hume = new HumeClient({ ...(options.auth ?? { apiKey: KEY }), environment: http() });
  const socket = hume.empathicVoice.chat.connect({
    configId: CONFIG,
    ...(options.query ? { queryParams: options.query } : {}),
    ...(options.resumedChatGroupId ? { resumedChatGroupId: options.resumedChatGroupId } : {}),
    ...(options.reconnectAttempts !== undefined ? { reconnectAttempts: options.reconnectAttempts } : {}),
  });
  const messages: Message[] = [];
  const closes: number[] = [];
  const errors: unknown[] = [];
  let opens = 0;
  socket.on('open', () => {
    opens++;
  });
  socket.on('message', (message) => void messages.push(message as unknown as Message));
  socket.on('close', (event) => void closes.push(event.code));
  socket.on('error', (error) => void errors.push(error));
  onTestFailed(() => {
    const shown = messages.map((m) =>
      m.type === 'audio_output' ? `audio_output ${m.id} #${m.index}` : JSON.stringify(m).slice(0, 200),
    );
    console.info(
      `received:\n${shown.join('\n')}\nconsole:\n${consoleOutput.join('\n')}\nagent log:\n${agentLog.join('\n')}`,
    );
  });
  await socket.waitForOpen();
  const of = (type: string) => messages.filter((m) => m.type === type);
  return {
    socket,
    messages,
    closes,
    errors,
    get opens() {
      return opens;
    },
    of,
    /** The assistant's transcripts, in order. */
    said: () => of('assistant_message').map((m) => (m.message as { content: string }).content),
    /** The audio of one assistant message: its WAV chunks decoded and joined. */
    audio(id: unknown): { samples: Float32Array; rates: Set<number>; indexes: number[] } {
      const chunks = of('audio_output').filter((m) => m.id === id);
      const decoded = chunks.map((m) => decodeWav16(Buffer.from(String(m.data), 'base64')));
      return {
        samples: concat(...decoded.map((d) => d.samples)),
        rates: new Set(decoded.map((d) => d.sampleRate)),
        indexes: chunks.map((m) => Number(m.index)),
      };
    },
  };
}

describe('hume EVI chat against the local agent', () => {
  test('chat_metadata, the greeting as WAV chunks, a spoken turn answered, barge-in, and the agent hangs up with 1000', async () => {
    const call = await chat({ query: { hangupAfterTurns: '1' } });
    const { socket } = call;
    socket.sendSessionSettings({
      audio: { encoding: 'linear16', sampleRate: IN_RATE, channels: 1 },
      systemPrompt: 'You are a helpful agent.',
      voiceId: 'en/en-rp',
    });
    const mic = startPacedMicrophone(
      (pcm) => socket.readyState === 1 && socket.sendAudioInput({ data: encodeBase64(new Uint8Array(pcm)) }),
      IN_RATE,
    );
    try {
      await expect.poll(() => call.of('chat_metadata').length, { timeout: 10_000 }).toBe(1);
      expect(call.messages[0]).toMatchObject({
        type: 'chat_metadata',
        chatGroupId: expect.any(String),
        chatId: expect.any(String),
      });

      // The greeting: its transcript, its audio (a WAV file per chunk, 48 kHz), then its end.
      await expect.poll(() => call.of('assistant_end').length, { timeout: 30_000 }).toBe(1);
      const greeting = call.of('assistant_message')[0]!;
      expect(greeting).toMatchObject({
        message: { role: 'assistant', content: GREETING },
        fromText: false,
        isQuickResponse: false,
      });
      const audio = call.audio(greeting.id);
      expect(audio.rates).toEqual(new Set([48_000]));
      expect(audio.indexes).toEqual(audio.indexes.map((_, i) => i));
      expect(audio.samples.length / 48_000).toBeGreaterThan(1);
      expect(rmsDb(audio.samples)).toBeGreaterThan(-30);

      // A spoken turn: the user's message (no recogniser offline: its length), then the reply.
      mic.say(speech);
      await expect.poll(() => call.said().length, { timeout: 20_000 }).toBe(2);
      const user = call.of('user_message')[0]!;
      expect(user).toMatchObject({
        message: { role: 'user', content: expect.stringMatching(/^\(\d+\.\d s of speech\)$/) },
        interim: false,
        fromText: false,
        time: { begin: expect.any(Number), end: expect.any(Number) },
      });
      expect(call.said()[1]).toBe(REPLY_TEXT);
      const reply = call.of('assistant_message')[1]!;

      // Barge-in half a second into the reply: user_interruption, and that reply's audio stops.
      await expect
        .poll(() => call.audio(reply.id).samples.length / 48_000, { timeout: 10_000 })
        .toBeGreaterThan(0.5);
      mic.say(speech);
      await expect.poll(() => call.of('user_interruption').length, { timeout: 10_000 }).toBe(1);
      expect(call.of('user_interruption')[0]!.time).toBeGreaterThan(Date.now() - 60_000);

      // The interrupting speech's reply plays out, then the goodbye, then 1000 (no reconnect).
      await expect.poll(() => call.closes, { timeout: 60_000 }).toEqual([1000]);
      expect(call.said().slice(-2)).toEqual([REPLY_TEXT, GOODBYE]);
      // Ends: the greeting, the reply that played out, the goodbye (not the interrupted reply).
      expect(call.of('assistant_end')).toHaveLength(3);
      expect(call.audio(reply.id).samples.length / 48_000).toBeLessThan(3);
      expect(call.opens).toBe(1);
      expect(call.of('error')).toEqual([]);
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      mic.stop();
      socket.close();
    }
  });

  test('resumed_chat_group_id resumes the chat without a greeting; user_input, assistant_input, pause and resume', async () => {
    const first = await chat();
    await expect.poll(() => first.of('assistant_end').length, { timeout: 30_000 }).toBe(1);
    const group = first.of('chat_metadata')[0]!.chatGroupId as string;
    first.socket.close();

    const call = await chat({ resumedChatGroupId: group });
    const { socket } = call;
    try {
      await expect.poll(() => call.of('chat_metadata').length, { timeout: 10_000 }).toBe(1);
      expect(call.of('chat_metadata')[0]!.chatGroupId).toBe(group);
      socket.sendUserInput('Are you still there?');
      await expect.poll(() => call.of('assistant_end').length, { timeout: 30_000 }).toBe(1);
      // No greeting on a resumed chat: the first thing said answers the text.
      expect(call.said()).toEqual(['You wrote: Are you still there?']);
      expect(call.of('user_message')[0]).toMatchObject({
        message: { role: 'user', content: 'Are you still there?' },
        fromText: true,
        interim: false,
      });

      socket.sendAssistantInput({ text: 'Let me add something.' });
      await expect.poll(() => call.of('assistant_end').length, { timeout: 30_000 }).toBe(2);
      expect(call.of('assistant_message')[1]).toMatchObject({
        message: { content: 'Let me add something.' },
        fromText: true,
      });

      // Paused, the assistant does not answer; resumed, it answers what it missed.
      socket.pauseAssistant({});
      socket.sendUserInput('Hold on.');
      await expect.poll(() => call.of('user_message').length, { timeout: 10_000 }).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(call.said()).toHaveLength(2);
      socket.resumeAssistant({});
      await expect.poll(() => call.said().at(-1), { timeout: 30_000 }).toBe('You wrote: Hold on.');
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      socket.close();
    }
  });

  test('an access token from POST /oauth2-cc/token opens a chat; a wrong key gets an error and 1008', async () => {
    const minted = await fetch(`${http()}/oauth2-cc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(minted.status).toBe(200);
    const token = (await minted.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 1800 });

    const good = await chat({ auth: { accessToken: token.access_token } });
    try {
      await expect.poll(() => good.of('chat_metadata').length, { timeout: 10_000 }).toBe(1);
      expect(consoleOutput).toEqual([]);
    } finally {
      good.socket.close();
    }

    const bad = await chat({ auth: { apiKey: 'hume-wrong' }, reconnectAttempts: 0 });
    await expect.poll(() => bad.closes, { timeout: 10_000 }).toEqual([1008]);
    expect(bad.messages).toEqual([
      expect.objectContaining({
        type: 'error',
        code: '1008',
        slug: 'unauthorized',
        message: expect.any(String),
      }),
    ]);
    expect(consoleOutput).toEqual([]);
  });
});
