/**
 * Each vendor provider of @voicewire/core against the real local agent speaking that vendor's
 * protocol, over real WebSockets on 127.0.0.1, directly and through the real relay holding the
 * key. Only the audio engine is faked (Node has no microphone): the "microphone" sends a tone the
 * agent's voice activity detector hears, in the wire format the provider settled; the "player"
 * receives the agent's real audio.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Conversation,
  type ConversationOptions,
  createConversation,
  type Provider,
} from '@voicewire/core';
import { deepgramAgent } from '@voicewire/core/deepgram';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { geminiLive } from '@voicewire/core/gemini';
import { humeEvi } from '@voicewire/core/hume';
import { openaiRealtime } from '@voicewire/core/openai';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { createRelay, createSessionToken, type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tone } from '../../../testing/audio.ts';

const API_KEY = 'provider-test-key';
const SECRET = 'provider-relay-secret';
let agent: LocalAgent;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, log: false, silenceMs: 300, apiKeys: [API_KEY] });
});
afterAll(async () => {
  await agent?.close();
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** 16-bit little-endian frames of `samples`, `frameSamples` each. */
function linear16Frames(samples: Float32Array, frameSamples: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let start = 0; start + frameSamples <= samples.length; start += frameSamples) {
    const bytes = new Uint8Array(frameSamples * 2);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < frameSamples; i++)
      view.setInt16(i * 2, Math.round((samples[start + i] ?? 0) * 32767), true);
    frames.push(bytes);
  }
  return frames;
}

function call(provider: Provider, url: string, options: Partial<ConversationOptions> = {}) {
  const audio = createFakeAudio();
  const conversation: Conversation = createConversation({
    provider,
    url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: audio.factories,
    reconnect: false,
    ...options,
  });
  stops.push(() => conversation.stop());
  return { conversation, audio };
}

/** The user speaks over the agent for 0.8 s (a loud tone at the wire rate), then is silent for 1 s. */
function speak(audio: ReturnType<typeof createFakeAudio>): void {
  const capture = audio.capture!;
  const rate = capture.sampleRate;
  const frameSamples = Math.round((rate * capture.frameMs) / 1000);
  for (const frame of linear16Frames(tone(300, 0.8, rate, 0.4), frameSamples)) capture.emitFrame(frame);
  for (const frame of linear16Frames(new Float32Array(rate), frameSamples)) capture.emitFrame(frame);
}

/** Credentials as a site gives them to the provider: the key itself, or a signed URL its server bought. */
type Credentials = (extraQuery: string) => Partial<ConversationOptions>;
const apiKey: Credentials = () => ({ apiKey: API_KEY });

const PROVIDERS: {
  name: string;
  provider: () => Provider;
  path: string;
  /** What a relay session token is bound to (`null`: nothing names one, Deepgram). */
  target: string | null;
  relayProvider: 'openai' | 'elevenlabs' | 'gemini' | 'deepgram' | 'hume';
  format: { format: string; sampleRate: number };
  credentials: Credentials;
}[] = [
  {
    name: 'OpenAI Realtime',
    provider: () => openaiRealtime({ model: 'gpt-realtime', instructions: 'Be brief.' }),
    path: '/v1/realtime',
    target: 'gpt-realtime',
    relayProvider: 'openai',
    format: { format: 'pcm16', sampleRate: 24_000 },
    credentials: apiKey,
  },
  {
    name: 'ElevenLabs',
    provider: () =>
      elevenlabs({ agentId: 'agent_local', overrides: { firstMessage: 'Hello from ElevenLabs.' } }),
    path: '/v1/convai/conversation',
    target: 'agent_local',
    relayProvider: 'elevenlabs',
    format: { format: 'pcm16', sampleRate: 16_000 },
    // A signed URL is the whole socket address: the agent's options go in it too.
    credentials: (extraQuery) => ({
      getToken: async () => `${await signedUrl('agent_local')}${extraQuery ? `&${extraQuery}` : ''}`,
    }),
  },
  {
    name: 'Gemini Live',
    provider: () => geminiLive({ model: 'gemini-live-2.5-flash-preview', systemInstruction: 'Be brief.' }),
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    target: 'gemini-live-2.5-flash-preview',
    relayProvider: 'gemini',
    format: { format: 'pcm16', sampleRate: 24_000 },
    credentials: apiKey,
  },
  {
    name: 'Deepgram Voice Agent',
    provider: () =>
      deepgramAgent({
        greeting: 'Hello from Deepgram.',
        speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
      }),
    path: '/v1/agent/converse',
    target: null,
    relayProvider: 'deepgram',
    format: { format: 'pcm16', sampleRate: 24_000 },
    credentials: apiKey,
  },
  {
    name: 'Hume EVI',
    provider: () => humeEvi({ configId: 'evi-config-local', systemPrompt: 'Be brief.' }),
    path: '/v0/evi/chat',
    target: 'evi-config-local',
    relayProvider: 'hume',
    // Each audio_output is a little WAV file, at 48 kHz.
    format: { format: 'wav', sampleRate: 48_000 },
    credentials: apiKey,
  },
];

describe.each(PROVIDERS)('$name against the local agent', { timeout: 60_000 }, (vendor) => {
  it('greets, is interrupted by speech, transcribes the user and answers', async () => {
    const { conversation, audio } = call(
      vendor.provider(),
      `${agent.origin}${vendor.path}`,
      vendor.credentials(''),
    );
    await conversation.start();
    expect(conversation.store.getState().status).toBe('connected');
    const player = audio.player!;
    expect({ format: player.format, sampleRate: player.sampleRate }).toEqual(vendor.format);
    await until(() => player.enqueued.length >= 3, 'the greeting audio');
    player.emitStarted();
    await until(
      () => conversation.store.getState().transcript[0]?.role === 'agent',
      'the greeting transcript',
    );
    speak(audio);
    await until(() => player.calls.includes('interrupt'), 'the barge-in');
    await until(
      () => conversation.store.getState().transcript.some((t) => t.role === 'user'),
      'the user turn',
    );
    await until(
      () => conversation.store.getState().transcript.filter((t) => t.role === 'agent').length >= 2,
      'the reply',
    );
    const turns = conversation.store.getState().transcript;
    expect(turns[0]).toMatchObject({ role: 'agent', interrupted: true });
    expect(turns.map((t) => t.role)).toEqual(['agent', 'user', 'agent']);
    await until(
      () => player.calls.lastIndexOf('newStream') > player.calls.indexOf('interrupt'),
      'the reply stream',
    );
    await conversation.stop();
    expect(audio.capture!.stopped).toBe(true);
    expect(player.closed).toBe(true);
  });

  it('the agent hangs up after its reply: its goodbye plays, then the call ends as the agent ended it', async () => {
    const disconnects: { by: string }[] = [];
    // The local agent's own option, in the query of `url` (the provider keeps it and adds its own).
    const { conversation, audio } = call(
      vendor.provider(),
      `${agent.origin}${vendor.path}?hangupAfterTurns=1`,
      {
        ...vendor.credentials('hangupAfterTurns=1'),
        onDisconnect: (reason) => disconnects.push(reason),
      },
    );
    await conversation.start();
    speak(audio);
    const player = audio.player!;
    // The reply and the goodbye arrive; the player says when they have played.
    await until(
      () => conversation.store.getState().status === 'ending' || player.enqueued.length > 20,
      'the goodbye',
    );
    await until(() => {
      if (conversation.store.getState().status === 'ending') player.emitDrained();
      return conversation.store.getState().status === 'ended';
    }, 'the end');
    expect(disconnects).toEqual([expect.objectContaining({ by: 'agent' })]);
    expect(conversation.store.getState().error).toBeNull();
    expect(audio.capture!.stopped).toBe(true);
    expect(player.closed).toBe(true);
  });
});

/** A signed URL for a private ElevenLabs agent, as a site's server mints it with its key. */
async function signedUrl(agentId: string): Promise<string> {
  const http = agent.origin.replace(/^ws/, 'http');
  const response = await fetch(`${http}/v1/convai/conversation/get-signed-url?agent_id=${agentId}`, {
    headers: { 'xi-api-key': API_KEY },
  });
  const body = (await response.json()) as { signed_url: string };
  return body.signed_url;
}

describe.each(PROVIDERS)('$name through the relay', { timeout: 60_000 }, (vendor) => {
  it('the browser holds only a session token; the relay carries the key; a whole turn works', async () => {
    const relay = createRelay({
      provider: vendor.relayProvider,
      upstream: agent.origin,
      apiKey: API_KEY,
      secret: SECRET,
      log: () => {},
    });
    const server = createServer((_request, response) => response.writeHead(404).end());
    relay.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(async () => {
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const { conversation, audio } = call(vendor.provider(), `ws://127.0.0.1:${port}${vendor.path}`, {
      getToken: () => createSessionToken({ secret: SECRET, target: vendor.target, ttlSeconds: 60 }),
    });
    await conversation.start();
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', error: null });
    await until(() => (audio.player?.enqueued.length ?? 0) >= 3, 'the greeting audio');
    audio.player!.emitStarted();
    // Gemini's transcription follows its audio: the greeting is a turn once its first words are in.
    await until(
      () => conversation.store.getState().transcript[0]?.role === 'agent',
      'the greeting transcript',
    );
    speak(audio);
    await until(
      () => conversation.store.getState().transcript.filter((t) => t.role === 'agent').length >= 2,
      'the reply',
    );
    expect(conversation.store.getState().transcript.map((t) => t.role)).toEqual(['agent', 'user', 'agent']);
    await conversation.stop();
  });
});
