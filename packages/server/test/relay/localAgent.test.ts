import { type Conversation, createConversation } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLocalAgent } from '../../src/agent/index.ts';
import { createSessionToken } from '../../src/relay/index.ts';
import { type ClientRecording, connectClient, startRelay, until } from './helpers.ts';

const apiKey = 'real-key';
const secret = 'relay-secret-for-the-local-agent';
const agentId = 'relay-agent';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBoth(relayApiKey = apiKey) {
  const agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: false });
  cleanups.push(() => agent.close());
  const relay = await startRelay({ upstream: agent.url, apiKey: relayApiKey, secret });
  cleanups.push(() => relay.close());
  return { agent, relay };
}

function token(overrides: Partial<Parameters<typeof createSessionToken>[0]> = {}) {
  return createSessionToken({ secret, agentId, ttlSeconds: 60, ...overrides });
}

/** 20 ms of linear16 16 kHz: a 300 Hz tone loud enough for the agent's VAD, or silence. */
function frame(voice: boolean): string {
  const samples = new Int16Array(320);
  if (voice)
    for (let i = 0; i < samples.length; i++)
      samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000));
  return JSON.stringify({ type: 'audioIn', data: Buffer.from(samples.buffer).toString('base64') });
}

/** Speaks `voiceMs` then stays silent `silenceMs`, at twice real time (the relay's cap). */
async function speak(client: ClientRecording, voiceMs: number, silenceMs: number) {
  const frames = [...Array(voiceMs / 20).fill(true), ...Array(silenceMs / 20).fill(false)] as boolean[];
  for (let i = 0; i < frames.length; i += 2) {
    client.socket.send(frame(frames[i] as boolean));
    if (i + 1 < frames.length) client.socket.send(frame(frames[i + 1] as boolean));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function parsed(client: ClientRecording): Record<string, unknown>[] {
  return client.messages.map((m) => JSON.parse(m) as Record<string, unknown>);
}

describe('relay in front of the local agent', () => {
  it('holds a whole conversation: the browser sends no key, the relay injects the real one', async () => {
    const { relay } = await startBoth();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(
      JSON.stringify({
        type: 'setup',
        apiKey: 'not-the-real-key',
        inputEncoding: 'linear16',
        inputSampleRate: 16000,
        outputFormat: 'mulaw',
        outputSampleRate: 16000,
      }),
    );
    const init = await client.waitFor((m) => m.type === 'init');
    expect(typeof init.conversationId).toBe('string');
    // The greeting is spoken: audio arrives.
    await client.waitFor((m) => m.type === 'audioStream');

    await speak(client, 1200, 1000);
    await client.waitFor((m) => m.type === 'voiceActivityStart');
    const transcript = await client.waitFor((m) => m.type === 'onUserTranscript');
    expect(transcript.message).toMatch(/^\(1\.\d s of speech\)$/);
    const reply = await client.waitFor(
      (m) => m.type === 'onAgentTranscript' && m.message === 'Here is what I heard.',
    );
    expect(reply).toBeDefined();
    // The reply's audio follows a newAudioStream that comes after the user's transcript.
    const messages = parsed(client);
    const userAt = messages.findIndex((m) => m.type === 'onUserTranscript');
    await until(() => parsed(client).some((m, i) => i > userAt && m.type === 'audioStream'));
    expect(messages.some((m, i) => i > userAt && m.type === 'newAudioStream')).toBe(true);
    // Nothing the agent sent carried an error.
    expect(messages.filter((m) => m.type === 'error')).toEqual([]);
    client.socket.close(1000);
    expect((await client.closed).code).toBe(1000);
    await until(() => relay.relay.sessionCount === 0);
  });

  it('without the relay the same setup is refused: the key injection is what opens the door', async () => {
    const { agent } = await startBoth();
    const direct = connectClient(`${agent.url}/${agentId}`);
    await direct.opened;
    direct.socket.send(JSON.stringify({ type: 'setup', apiKey: 'not-the-real-key' }));
    const error = await direct.waitFor((m) => m.type === 'error');
    expect(error.code).toBe(1003);
    await direct.closed;
  });

  it("passes the agent's own refusal through when the relay's key is wrong", async () => {
    const { relay } = await startBoth('a-revoked-key');
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error.code).toBe(1003);
    const closed = await client.closed;
    expect(closed.code).not.toBe(1006);
    expect(client.messages.join('')).not.toContain('a-revoked-key');
  });

  for (const [name, path, origin] of [
    ['a missing token', () => `/${agentId}`, undefined],
    ['an expired token', () => `/${agentId}?token=${token({ now: Date.now() - 3_600_000 })}`, undefined],
    [
      'a tampered token',
      () => `/${agentId}?token=${token().replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`,
      undefined,
    ],
    ['a token for another agent', () => `/${agentId}?token=${token({ agentId: 'someone-else' })}`, undefined],
    [
      'a token bound to another origin',
      () => `/${agentId}?token=${token({ origin: 'https://a.example' })}`,
      'https://b.example',
    ],
  ] as const) {
    it(`refuses ${name} with 4401 before reaching the agent`, async () => {
      const { relay } = await startBoth();
      const client = connectClient(relay.base + path(), origin ? { origin } : {});
      expect((await client.closed).code).toBe(4401);
      expect(parsed(client)).toEqual([expect.objectContaining({ type: 'error', code: 4401, isFatal: true })]);
    });
  }

  it('refuses a disallowed origin and a session over maxSessionsPerToken', async () => {
    const agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: false });
    cleanups.push(() => agent.close());
    const relay = await startRelay({
      upstream: agent.url,
      apiKey,
      secret,
      allowedOrigins: ['https://site.example'],
      maxSessionsPerToken: 1,
    });
    cleanups.push(() => relay.close());
    const shared = token();
    const wrongOrigin = connectClient(`${relay.base}/${agentId}?token=${shared}`, {
      origin: 'https://other.example',
    });
    expect((await wrongOrigin.closed).code).toBe(4401);

    const first = connectClient(`${relay.base}/${agentId}?token=${shared}`, {
      origin: 'https://site.example',
    });
    await first.opened;
    first.socket.send(JSON.stringify({ type: 'setup', outputFormat: 'mulaw', outputSampleRate: 8000 }));
    await first.waitFor((m) => m.type === 'init');
    const second = connectClient(`${relay.base}/${agentId}?token=${shared}`, {
      origin: 'https://site.example',
    });
    expect((await second.closed).code).toBe(4429);
    expect(parsed(second)[0]).toMatchObject({ type: 'error', code: 4429 });
    first.socket.close();
    await first.closed;
  });
});

describe('the library through the relay (url + token, no API key in the client)', () => {
  it('createConversation connects with ?token=, gets init and the greeting, and ends cleanly', async () => {
    const { relay } = await startBoth();
    const audio = createFakeAudio();
    const conversation: Conversation = createConversation({
      agentId,
      url: relay.base,
      token: token(),
      input: { encoding: 'linear16', sampleRate: 16000 },
      output: { format: 'mulaw', sampleRate: 16000 },
      reconnect: false,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      AudioContext: FakeAudioContext as unknown as typeof AudioContext,
      audio: audio.factories,
    });
    cleanups.push(() => conversation.stop());
    await conversation.start();
    await until(() => conversation.store.getState().status === 'connected');
    const state = conversation.store.getState();
    expect(state.conversationId).toEqual(expect.any(String));
    expect(state.error).toBeNull();
    // The greeting's audio reaches the player through the relay.
    await until(() => (audio.player?.enqueued.length ?? 0) > 0);
    // The microphone's frames flow to the agent through the relay (and are accepted: no error).
    audio.capture?.emitFrames(10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
    expect(conversation.store.getState().status).toBe('ended');
    await until(() => relay.relay.sessionCount === 0);
  });

  it('surfaces a refused token as a fatal unauthorized error, with no retry', async () => {
    const { relay } = await startBoth();
    const conversation = createConversation({
      agentId,
      url: relay.base,
      token: token({ agentId: 'another-agent' }),
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      AudioContext: FakeAudioContext as unknown as typeof AudioContext,
      audio: createFakeAudio().factories,
    });
    cleanups.push(() => conversation.stop());
    await conversation.start().catch(() => {});
    await until(() => conversation.store.getState().status === 'error');
    expect(conversation.store.getState().error).toMatchObject({
      kind: 'unauthorized',
      code: 4401,
      fatal: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(conversation.store.getState().status).toBe('error');
    expect(conversation.getStats().reconnects).toBe(0);
  });
});
