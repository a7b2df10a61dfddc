import { type ConversationError, type ConversationStatus, createConversation } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { watchInternalErrors } from '../../../testing/internalErrors.ts';

/**
 * The local agent's faults, over real sockets: the conversation must recover as docs/protocol.md
 * ("Errors") says — reconnect after a drop (1006) and after a retryable 4500, resuming the same
 * conversation with `continueConversation`; ride through garbage frames without losing the call.
 */

const apiKey = 'fault-key';
let agent: LocalAgent;

beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: false });
});
afterAll(async () => {
  await agent.close();
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** The `ws` client, recording every frame each socket sends (what the agent received). */
function recordingWebSocket() {
  const sockets: { url: string; sent: string[] }[] = [];
  class RecordingWebSocket extends WebSocket {
    readonly record: { url: string; sent: string[] };
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.record = { url: String(url), sent: [] };
      sockets.push(this.record);
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') this.record.sent.push(data);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return { WebSocket: RecordingWebSocket as unknown as typeof globalThis.WebSocket, sockets };
}

function until(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function start(fault: string) {
  const ws = recordingWebSocket();
  const audio = createFakeAudio();
  const errors: ConversationError[] = [];
  const statuses: ConversationStatus[] = [];
  const conversation = createConversation({
    agentId: 'fault-agent',
    url: `${agent.url}?fault=${fault}`,
    apiKey,
    input: { encoding: 'linear16', sampleRate: 16000 },
    output: { format: 'mulaw', sampleRate: 16000 },
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 5, jitter: 0 },
    WebSocket: ws.WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: audio.factories,
    onError: (error) => errors.push(error),
    onStatusChange: (status) => statuses.push(status),
  });
  stops.push(() => conversation.stop());
  return { conversation, audio, errors, statuses, sockets: ws.sockets };
}

function setupsSent(sockets: { sent: string[] }[]) {
  return sockets.map((s) => s.sent.map((m) => JSON.parse(m)).find((m) => m.type === 'setup'));
}

describe('recovery from the local agent’s faults', { timeout: 60_000 }, () => {
  it('drop mid-response (1006): reconnects and resumes the same conversation', async () => {
    const { conversation, statuses, sockets } = start('drop:800');
    await conversation.start();
    const conversationId = conversation.store.getState().conversationId;
    expect(conversationId).toEqual(expect.any(String));
    await until(() => statuses.includes('reconnecting'), 20_000, 'reconnecting');
    await until(
      () => sockets.length >= 2 && conversation.store.getState().status === 'connected',
      20_000,
      'reconnected',
    );
    const state = conversation.store.getState();
    expect(state.conversationId).toBe(conversationId);
    expect(state.error === null || state.error.fatal === false).toBe(true);
    const [first, second] = setupsSent(sockets);
    expect(first.continueConversation).toBeUndefined();
    expect(second).toMatchObject({ type: 'setup', apiKey, continueConversation: conversationId });
    expect(conversation.getStats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('4500 mid-stream: reports a non-fatal server error, reconnects, same conversation', async () => {
    const { conversation, errors, statuses, sockets } = start('error:4500:800');
    await conversation.start();
    const conversationId = conversation.store.getState().conversationId;
    await until(() => errors.some((e) => e.code === 4500), 20_000, 'the 4500');
    expect(errors.find((e) => e.code === 4500)).toMatchObject({ kind: 'server-error', fatal: false });
    await until(
      () => sockets.length >= 2 && conversation.store.getState().status === 'connected',
      20_000,
      'reconnected',
    );
    expect(statuses).toContain('reconnecting');
    expect(conversation.store.getState().conversationId).toBe(conversationId);
    expect(setupsSent(sockets)[1]).toMatchObject({ continueConversation: conversationId });
  });

  it('a fatal code is not retried (4401 from the agent ends the call with an unauthorized error)', async () => {
    const { conversation, statuses, sockets } = start('error:4401:500');
    await conversation.start();
    await until(() => conversation.store.getState().status === 'error', 20_000, 'error status');
    expect(conversation.store.getState().error).toMatchObject({
      kind: 'unauthorized',
      code: 4401,
      fatal: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(sockets).toHaveLength(1);
    expect(statuses).not.toContain('reconnecting');
  });

  it('garbage frames: the call goes on, a full turn still works', async () => {
    const watch = watchInternalErrors();
    onTestFinished(() => watch.restore());
    const { conversation, audio, errors } = start('garbage');
    await conversation.start();
    expect(conversation.store.getState().status).toBe('connected');
    // The greeting's audio gets through between the garbage.
    await until(() => (audio.player?.enqueued.length ?? 0) > 3, 20_000, 'greeting audio');
    // Speak: 1.2 s of a 300 Hz tone, then silence for the agent's end-of-turn detector.
    const tone = new Uint8Array(640);
    const view = new DataView(tone.buffer);
    for (let i = 0; i < 320; i++)
      view.setInt16(i * 2, Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000)), true);
    for (let i = 0; i < 60; i++) audio.capture?.emitFrame(tone);
    for (let i = 0; i < 50; i++) {
      audio.capture?.emitFrame();
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(
      () =>
        conversation.store
          .getState()
          .transcript.some((t) => t.role === 'agent' && t.text.includes('Here is what I heard.')),
      30_000,
      'the agent reply',
    );
    const state = conversation.store.getState();
    expect(state.status).toBe('connected');
    expect(state.transcript.some((t) => t.role === 'user' && /s of speech/.test(t.text))).toBe(true);
    // The garbage was seen and reported, never fatal.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.fatal === false && ['protocol', 'decode'].includes(e.kind))).toBe(true);
    expect(conversation.getStats().reconnects).toBe(0);
    watch.expectNone();
  });
});
