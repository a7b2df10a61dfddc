/**
 * The controller against the real local agent over real WebSockets on 127.0.0.1 (the `ws`
 * client, which implements the browser WebSocket interface). Only the audio engine is faked:
 * Node has no microphone or AudioWorklet. The "microphone" sends a real 16 kHz linear16 tone the
 * agent's voice activity detector hears; the "player" receives the agent's real WAV stream.
 */
import { type Conversation, type ConversationOptions, createConversation } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tone } from '../../../testing/audio.ts';

let agent: LocalAgent;

beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, log: false, silenceMs: 300 });
});

afterAll(async () => {
  await agent?.close();
});

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

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function connect(options: Partial<ConversationOptions> = {}) {
  const audio = createFakeAudio();
  const conversation: Conversation = createConversation({
    agentId: 'local-test',
    url: agent.url,
    apiKey: 'dev-key',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: audio.factories,
    ...options,
  });
  return { conversation, audio };
}

describe('against the local agent', { timeout: 60_000 }, () => {
  it('connects, hears the greeting, is interrupted by speech and answers it', async () => {
    const { conversation, audio } = connect({
      customGreeting: 'Hello from the local agent, how can I help you today?',
    });
    await conversation.start();
    expect(conversation.store.getState().status).toBe('connected');
    expect(conversation.store.getState().conversationId).toMatch(/.+/);
    const player = audio.player;
    const capture = audio.capture;
    if (!player || !capture) throw new Error('audio not created');

    // The greeting streams as WAV (the default output format) in real time.
    await until(() => player.enqueued.length >= 3, 'greeting audio');
    expect(new TextDecoder().decode(player.enqueued[0]?.subarray(0, 4))).toBe('RIFF');
    expect(player.calls[0]).toBe('newStream');
    player.emitStarted();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    expect(conversation.store.getState().transcript[0]).toMatchObject({ role: 'agent' });

    // The user talks over it: 0.8 s of a loud tone, then silence.
    const speech = linear16Frames(tone(300, 0.8, 16_000, 0.4), 320);
    const silence = linear16Frames(new Float32Array(16_000), 320);
    for (const frame of speech) capture.emitFrame(frame);
    await until(() => player.calls.includes('interrupt'), 'barge-in');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    for (const frame of silence) capture.emitFrame(frame);

    await until(
      () => conversation.store.getState().transcript.some((t) => t.role === 'user'),
      'user transcript',
    );
    await until(
      () => conversation.store.getState().transcript.filter((t) => t.role === 'agent').length >= 2,
      'agent reply',
    );
    const transcript = conversation.store.getState().transcript;
    expect(transcript[0]).toMatchObject({ role: 'agent', interrupted: true });
    expect(transcript.map((t) => t.role)).toEqual(['agent', 'user', 'agent']);
    // The reply is a new stream after the interrupted one.
    await until(
      () => player.calls.lastIndexOf('newStream') > player.calls.indexOf('interrupt'),
      'reply stream',
    );
    expect(conversation.getStats().framesSent).toBe(speech.length + silence.length);

    await conversation.stop();
    expect(conversation.store.getState().status).toBe('ended');
    expect(capture.stopped).toBe(true);
    expect(player.closed).toBe(true);
  });

  it('a bad API key is refused with a structured, fatal error', async () => {
    const strict = await startLocalAgent({ port: 0, log: false, apiKeys: ['right'] });
    try {
      const { conversation } = connect({ url: strict.url, apiKey: 'wrong' });
      await conversation.start();
      expect(conversation.store.getState()).toMatchObject({
        status: 'error',
        error: { kind: 'unauthorized', code: 1003, fatal: true },
      });
    } finally {
      await strict.close();
    }
  });

  it('a dropped connection reconnects into the same conversation', async () => {
    const { conversation } = connect({
      url: `${agent.url}?fault=drop:300`,
      customGreeting: '',
      reconnect: { initialDelayMs: 50, maxAttempts: 3 },
    });
    const sockets: string[] = [];
    conversation.on('statusChange', (status) => sockets.push(status));
    await conversation.start();
    const first = conversation.store.getState().conversationId;
    await until(() => sockets.includes('reconnecting'), 'the drop');
    await until(() => sockets.filter((s) => s === 'connected').length >= 2, 'the reconnect');
    expect(conversation.store.getState().conversationId).toBe(first);
    expect(conversation.getStats().reconnects).toBeGreaterThanOrEqual(1);
    await conversation.stop();
  });
});
