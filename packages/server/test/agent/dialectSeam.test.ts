/**
 * The seam protocols are added at: a dialect written here, in the shape of Deepgram's Voice Agent
 * (a JSON handshake, then audio as BINARY frames both ways), drives the agent's brain unchanged:
 * the greeting and the reply come out as raw PCM16 binary frames, the user's turn goes in as
 * binary frames, and the brain's turn events come back as the dialect words them.
 */
import type { AddressInfo } from 'node:net';
import { bytesToPcm16, floatToPcm16, pcm16ToBytes, pcm16ToFloat } from '@voicewire/core';
import { synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { concat, rmsDb } from '../../../../testing/audio.ts';
import type { SessionContext } from '../../src/agent/context.ts';
import { ConversationStore } from '../../src/agent/conversationStore.ts';
import { Credentials } from '../../src/agent/credentials.ts';
import type { Dialect, DialectConnection, DialectHost } from '../../src/agent/dialect.ts';
import type { SpeechResponse } from '../../src/agent/response.ts';
import { AgentSession } from '../../src/agent/session.ts';
import type { AudioChunk } from '../../src/agent/speech.ts';
import { createTicker } from '../../src/agent/ticker.ts';

const RATE = 16_000;

/** Deepgram-like: `Welcome`, the client's `Settings`, `SettingsApplied`; audio as binary frames. */
const binaryDialect: Dialect = {
  name: 'binary-test',
  matches: () => ({}),
  selectProtocol: (offered) => offered[0],
  connect: (host: DialectHost): DialectConnection => {
    const send = (message: Record<string, unknown>) => host.sendText(JSON.stringify(message));
    let settled = false;
    return {
      garbage: [],
      opened: () => send({ type: 'Welcome' }),
      receiveText(text) {
        const message = JSON.parse(text) as { type: string; greeting?: string };
        if (message.type !== 'Settings' || settled) return;
        settled = true;
        host.start({
          agentId: 'binary',
          input: { encoding: 'linear16', sampleRate: RATE },
          output: { format: 'pcm16', sampleRate: RATE },
          query: { faults: [] },
          summary: 'in=linear16 out=pcm16',
        });
        send({ type: 'SettingsApplied' });
        host.speakGreeting(message.greeting ?? '');
      },
      receiveBinary(bytes) {
        const problem = host.audioIn(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        if (problem) send({ type: 'Error', description: problem });
      },
      speechStarted: () => send({ type: 'UserStartedSpeaking' }),
      userTurn: (turn) => send({ type: 'ConversationText', role: 'user', content: turn.description }),
      responseStarted: (response: SpeechResponse) =>
        send({ type: 'ConversationText', role: 'assistant', content: response.text }),
      audio: (_response: SpeechResponse, chunk: AudioChunk) => host.sendBinary(chunk.bytes),
      responseDone: () => send({ type: 'AgentAudioDone' }),
      responseInterrupted: () => send({ type: 'Interrupted' }),
      greetingEnded: () => {},
      hangingUp: () => 0,
      error: (_kind, message) => send({ type: 'Error', description: message }),
      faultError: (code, message) => send({ type: 'Error', code, description: message }),
    };
  },
};

let server: WebSocketServer;
let url: string;
const ctx: SessionContext = {
  ticker: createTicker(20, () => {}),
  conversations: new ConversationStore(10),
  liveSessions: new Set(),
  silenceMs: 500,
  greeting: '',
  maxConnections: 10,
  hangupAfterTurns: undefined,
  credentials: new Credentials(undefined, true),
  servesAgent: () => true,
  openaiGreeting: 'on-request',
  elevenlabs: { inputFormat: 'pcm_16000', outputFormat: 'pcm_16000', pingIntervalMs: 2000 },
  gemini: { greeting: 'auto', connectionLifetimeMs: undefined },
  deepgram: { clientTimeoutMs: 10_000 },
  log: () => {},
};

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  server.on('connection', (ws, request) => {
    new AgentSession(
      ws,
      ctx,
      {
        agentId: undefined,
        query: { ok: true, value: { faults: [] } },
        params: new URLSearchParams(),
        headers: request.headers,
        protocols: [],
        remote: 'test',
        path: '/',
      },
      binaryDialect,
    );
  });
});
afterAll(async () => {
  ctx.ticker.clear();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a binary protocol on the unchanged brain: PCM16 frames out for the greeting and the reply, a spoken turn in', async () => {
  const ws = new WebSocket(url);
  const events: { type: string; role?: string; content?: string }[] = [];
  /** Binary audio received after each event, by the index of the event it follows. */
  const audio: Buffer[][] = [[]];
  ws.on('message', (data, isBinary) => {
    if (isBinary) audio[audio.length - 1]!.push(data as Buffer);
    else {
      events.push(JSON.parse(String(data)));
      audio.push([]);
    }
  });
  await new Promise((resolve) => ws.once('open', resolve));
  await expect.poll(() => events[0]?.type).toBe('Welcome');
  ws.send(JSON.stringify({ type: 'Settings', greeting: 'Hello in binary.' }));
  await expect.poll(() => events.some((e) => e.type === 'AgentAudioDone'), { timeout: 15_000 }).toBe(true);
  const greetingAt = events.findIndex((e) => e.content === 'Hello in binary.');
  const greeting = pcm16ToFloat(bytesToPcm16(new Uint8Array(Buffer.concat(audio[greetingAt + 1]!))));
  const expected = await synthesizeSpeech('Hello in binary.', { sampleRate: RATE });
  expect(greeting.length).toBe(expected.length);
  expect(rmsDb(greeting)).toBeGreaterThan(-30);

  // The user's turn, as binary PCM16 frames of 20 ms at real time.
  const speech = await synthesizeSpeech('Testing one two three.', { sampleRate: RATE });
  const input = pcm16ToBytes(floatToPcm16(concat(speech, new Float32Array(RATE))));
  const frame = (RATE / 50) * 2;
  for (let offset = 0; offset < input.length; offset += frame) {
    ws.send(input.subarray(offset, offset + frame), { binary: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await expect
    .poll(() => events.filter((e) => e.type === 'AgentAudioDone').length, { timeout: 20_000 })
    .toBe(2);
  const types = events.map((e) => e.type);
  expect(types.indexOf('UserStartedSpeaking')).toBeGreaterThan(types.indexOf('SettingsApplied'));
  const user = events.find((e) => e.role === 'user')!;
  expect(user.content).toMatch(/^\(\d\.\d s of speech\)$/);
  const replyAt = events.findIndex((e) => e.role === 'assistant' && e.content === 'Here is what I heard.');
  const reply = Buffer.concat(audio[replyAt + 1]!);
  // The sentence, a pause, and the user's speech played back: longer than the speech itself.
  expect(reply.length / 2 / RATE).toBeGreaterThan(speech.length / RATE + 1);
  ws.close();
});
