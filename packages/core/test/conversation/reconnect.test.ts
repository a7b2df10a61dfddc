import { DEFAULT_RECONNECT_POLICY } from '@voicewire/core';
import { createTestConversation, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reconnectDelayMs } from '../../src/conversation/reconnectPolicy.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  FakeAudioContext.instances.length = 0;
});

/** Times at which new sockets were opened, relative to `t0`, while the server keeps dropping them. */
async function dropEveryConnection(
  server: ReturnType<typeof createTestConversation>['server'],
  maxMs: number,
): Promise<number[]> {
  const opened: number[] = [];
  let seen = server.sockets.length;
  for (let t = 0; t < maxMs; t += 10) {
    await vi.advanceTimersByTimeAsync(10);
    if (server.sockets.length > seen) {
      seen = server.sockets.length;
      opened.push(t + 10);
      // The new socket opens, then the network drops again before init.
      server.serverClose(1006);
    }
  }
  return opened;
}

describe('reconnect', () => {
  it('delays grow exponentially up to the cap, then it gives up after maxAttempts', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0); // no jitter: exact delays
    const onDisconnect = vi.fn();
    let answer = true;
    const { conversation, server, audio } = createTestConversation({
      reconnect: { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 3000, factor: 2 },
      onDisconnect,
      server: {
        autoInit: false,
        onClientMessage: (message, _raw, socket) => {
          if (message?.type === 'setup' && answer) socket.serverSend({ type: 'init', conversationId: 'c' });
        },
      },
    });
    await conversation.start();
    answer = false;
    server.serverClose(1006);
    const opened = await dropEveryConnection(server, 20_000);
    // Gaps between attempts: 500, 1000, 2000, 3000 (capped), 3000.
    const gaps = opened.map((t, i) => t - (i === 0 ? 0 : (opened[i - 1] ?? 0)));
    expect(gaps).toEqual([500, 1000, 2000, 3000, 3000]);
    expect(server.sockets).toHaveLength(6);
    const state = conversation.store.getState();
    expect(state.status).toBe('error');
    expect(state.error).toMatchObject({ kind: 'network', fatal: true });
    expect(state.error?.message).toMatch(/Gave up after 5 reconnect attempts/);
    expect(onDisconnect).toHaveBeenCalledTimes(1);
    expect(onDisconnect.mock.calls[0]?.[0]).toMatchObject({ by: 'network', closeCode: 1006 });
    expect(conversation.getStats().reconnects).toBe(5);
    expect(audio.capture?.stopped).toBe(true);
    expect(FakeAudioContext.instances[0]?.state).toBe('closed');
  });

  it('jitter only shortens a delay, by at most the jitter fraction', () => {
    const policy = { ...DEFAULT_RECONNECT_POLICY };
    for (let attempt = 0; attempt < 8; attempt++) {
      const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
      expect(reconnectDelayMs(policy, attempt, () => 0)).toBe(base);
      expect(reconnectDelayMs(policy, attempt, () => 1)).toBe(Math.round(base * 0.7));
      for (let i = 0; i < 50; i++) {
        const delay = reconnectDelayMs(policy, attempt);
        expect(delay).toBeGreaterThanOrEqual(Math.round(base * 0.7));
        expect(delay).toBeLessThanOrEqual(base);
      }
    }
    expect(DEFAULT_RECONNECT_POLICY).toEqual({
      maxAttempts: 5,
      initialDelayMs: 500,
      maxDelayMs: 10_000,
      factor: 2,
      jitter: 0.3,
    });
  });

  it('with jitter the live delays fall inside the bounds', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const { conversation, server } = createTestConversation();
    await conversation.start();
    server.serverClose(1006);
    await vi.advanceTimersByTimeAsync(349);
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(2);
    await conversation.stop();
  });

  it('resumes the same conversation: continueConversation, transcript, mic and context kept', async () => {
    vi.useFakeTimers();
    const onConnect = vi.fn();
    const { conversation, server, audio } = createTestConversation({
      onConnect,
      server: { autoInit: 'conv-7' },
    });
    await conversation.start();
    server.greet('Hello!');
    server.serverSend({ type: 'onUserTranscript', message: 'Hi' });
    const capture = audio.capture;
    server.serverClose(1006);
    expect(conversation.store.getState()).toMatchObject({
      status: 'reconnecting',
      conversationId: 'conv-7',
      error: { kind: 'network', fatal: false },
    });
    // The user keeps talking while the network is down: the last second is sent after setup.
    capture?.emitFrames(3);
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    const second = server.sockets[1];
    expect(second?.sent.map((f) => f.message?.type)).toEqual(['setup', 'audioIn', 'audioIn', 'audioIn']);
    expect(second?.messages('setup')[0]?.continueConversation).toBe('conv-7');
    expect(conversation.store.getState()).toMatchObject({
      status: 'connected',
      conversationId: 'conv-7',
      error: null,
    });
    expect(conversation.store.getState().transcript.map((t) => t.text)).toEqual(['Hello!', 'Hi']);
    expect(audio.captures).toHaveLength(1);
    expect(audio.players).toHaveLength(1);
    expect(capture?.stopped).toBe(false);
    expect(FakeAudioContext.instances).toHaveLength(1);
    expect(FakeAudioContext.instances[0]?.state).toBe('running');
    expect(onConnect.mock.calls).toEqual([['conv-7'], ['conv-7']]);
    server.serverSend({ type: 'onAgentTranscript', message: 'Welcome back.' });
    expect(conversation.store.getState().transcript).toHaveLength(3);
    await conversation.stop();
  });

  it('a successful reconnect resets the backoff', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    let answer = true;
    const { conversation, server } = createTestConversation({
      server: {
        autoInit: false,
        onClientMessage: (message, _raw, socket) => {
          if (message?.type === 'setup' && answer) socket.serverSend({ type: 'init', conversationId: 'c' });
        },
      },
    });
    await conversation.start();
    answer = false;
    server.serverClose(1006);
    await vi.advanceTimersByTimeAsync(500);
    answer = true;
    server.serverClose(1006); // dropped before init: attempt 2 waits 1000
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(3);
    expect(conversation.store.getState().status).toBe('connected');
    server.serverClose(1006); // after a good init: back to 500
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(4);
    await conversation.stop();
  });

  it('a reconnect attempt that never gets init times out and tries again', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    let answer = true;
    const { conversation, server } = createTestConversation({
      connectTimeoutMs: 2000,
      server: {
        autoInit: false,
        onClientMessage: (message, _raw, socket) => {
          if (message?.type === 'setup' && answer) socket.serverSend({ type: 'init', conversationId: 'c' });
        },
      },
    });
    await conversation.start();
    answer = false;
    server.serverClose(1006);
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(conversation.store.getState().error?.kind).toBe('timeout');
    expect(conversation.store.getState().status).toBe('reconnecting');
    answer = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.sockets).toHaveLength(3);
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
  });

  it('reconnect: false ends the conversation on a network loss', async () => {
    vi.useFakeTimers();
    const { conversation, server } = createTestConversation({ reconnect: false });
    await conversation.start();
    server.serverClose(1006);
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'network', fatal: true },
    });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(server.sockets).toHaveLength(1);
  });

  it('stop() during the backoff cancels the reconnect', async () => {
    vi.useFakeTimers();
    const { conversation, server } = createTestConversation();
    await conversation.start();
    server.serverClose(1006);
    await conversation.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(server.sockets).toHaveLength(1);
    expect(conversation.store.getState().status).toBe('ended');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('getToken', () => {
  it('fetches a fresh token for every connection, reconnects included', async () => {
    vi.useFakeTimers();
    let n = 0;
    const getToken = vi.fn(async () => `tok-${++n}`);
    const { conversation, server } = createTestConversation({ getToken, token: 'ignored' });
    await conversation.start();
    expect(server.sockets[0]?.url).toBe('ws://scripted.test/v1/talk/test-agent?token=tok-1');
    server.serverClose(1006);
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets[1]?.url).toBe('ws://scripted.test/v1/talk/test-agent?token=tok-2');
    expect(conversation.store.getState().status).toBe('connected');
    expect(getToken).toHaveBeenCalledTimes(2);
    await conversation.stop();
  });

  it('a token that cannot be fetched fails the start with a clear error', async () => {
    const { conversation, server } = createTestConversation({
      getToken: () => Promise.reject(new Error('403 from /api/voice-token')),
    });
    await conversation.start();
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: {
        kind: 'network',
        message: 'Could not get a session token: 403 from /api/voice-token',
        fatal: true,
      },
    });
    expect(server.sockets).toHaveLength(0);
  });

  it('a token that never comes is covered by the connect timeout; stop() meanwhile opens nothing', async () => {
    vi.useFakeTimers();
    const never = () => new Promise<string>(() => {});
    const first = createTestConversation({ getToken: never, connectTimeoutMs: 3000 });
    void first.conversation.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(first.conversation.store.getState().error?.kind).toBe('timeout');

    let resolveToken: (token: string) => void = () => {};
    const second = createTestConversation({
      getToken: () =>
        new Promise<string>((resolve) => {
          resolveToken = resolve;
        }),
    });
    const started = second.conversation.start();
    await second.conversation.stop();
    resolveToken('late');
    await started;
    await vi.advanceTimersByTimeAsync(0);
    expect(second.server.sockets).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
