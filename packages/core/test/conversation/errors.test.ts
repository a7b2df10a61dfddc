import { ERROR_CODES } from '@voicewire/core';
import { createTestConversation, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
  FakeAudioContext.instances.length = 0;
});

async function connected(options: Parameters<typeof createTestConversation>[0] = {}) {
  const onError = vi.fn();
  const onDisconnect = vi.fn();
  const test = createTestConversation({ onError, onDisconnect, ...options });
  await test.conversation.start();
  return { ...test, onError, onDisconnect };
}

const FATAL = [
  [1001, 'unauthorized'],
  [1002, 'agent-not-found'],
  [1003, 'unauthorized'],
  [1005, 'insufficient-credits'],
  [4400, 'invalid-parameters'],
  [4401, 'unauthorized'],
] as const;
const RETRYABLE = [
  [4429, 'too-many-connections'],
  [4500, 'server-error'],
] as const;

describe('server error messages', () => {
  it.each(FATAL)('%i ends the conversation with a %s error and releases everything', async (code, kind) => {
    const { conversation, server, audio, onError, onDisconnect } = await connected();
    server.error(code, 'the server said no');
    const error = { kind, code, message: 'the server said no', fatal: true };
    expect(conversation.store.getState()).toMatchObject({ status: 'error', error });
    expect(onError).toHaveBeenCalledExactlyOnceWith(error);
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'error', error });
    expect(audio.capture?.stopped).toBe(true);
    expect(audio.player?.closed).toBe(true);
    expect(server.socket?.readyState).toBe(3);
    expect(FakeAudioContext.instances[0]?.state).toBe('closed');
  });

  it.each(FATAL)(
    '%i with isFatal: true (the deployed shape) ends the conversation the same way',
    async (code, kind) => {
      const { conversation, server, onError } = await connected();
      server.error(code, 'refused', true);
      const error = { kind, code, message: 'refused', fatal: true };
      expect(conversation.store.getState()).toMatchObject({ status: 'error', error });
      expect(onError).toHaveBeenCalledExactlyOnceWith(error);
      expect(server.sockets).toHaveLength(1);
    },
  );

  it.each(FATAL)("%i without a message gets the code table's text", async (code) => {
    const { conversation, server } = await connected();
    server.error(code);
    expect(conversation.store.getState().error?.message).toBe(ERROR_CODES[code].message);
  });

  it.each(RETRYABLE)('%i does not end the call while the server keeps it open', async (code, kind) => {
    const { conversation, server, onError, onDisconnect } = await connected();
    server.error(code, 'busy');
    expect(onError).toHaveBeenCalledExactlyOnceWith({ kind, code, message: 'busy', fatal: false });
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', error: null });
    expect(onDisconnect).not.toHaveBeenCalled();
    server.serverSend({ type: 'onUserTranscript', message: 'still talking' });
    expect(conversation.store.getState().transcript).toHaveLength(1);
    await conversation.stop();
  });

  it.each(RETRYABLE)('%i then a close reconnects with backoff', async (code, kind) => {
    vi.useFakeTimers();
    const { conversation, server } = await connected();
    server.error(code, 'busy');
    server.serverClose(1011);
    expect(conversation.store.getState()).toMatchObject({
      status: 'reconnecting',
      error: { kind, code, fatal: false },
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', error: null });
    await conversation.stop();
  });

  it('isFatal: false keeps a normally fatal code from ending the call', async () => {
    const { conversation, server, onError } = await connected();
    server.error(4400, 'one bad message', false);
    expect(onError).toHaveBeenCalledExactlyOnceWith({
      kind: 'invalid-parameters',
      code: 4400,
      message: 'one bad message',
      fatal: false,
    });
    expect(conversation.store.getState().status).toBe('connected');
    // If the server then closes, a non-retryable code still means no reconnect.
    server.serverClose(1006);
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'invalid-parameters', code: 4400, fatal: true },
    });
    expect(server.sockets).toHaveLength(1);
  });

  it('isFatal: true on a retryable code drops the socket and reconnects', async () => {
    vi.useFakeTimers();
    const { conversation, server } = await connected();
    server.error(4500, 'generation failed', true);
    expect(server.sockets[0]?.readyState).toBe(3);
    expect(conversation.store.getState().status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    expect(server.sockets[1]?.messages('setup')[0]?.continueConversation).toBe('conv-1');
    await conversation.stop();
  });

  it('an unknown code is treated like 4500 (a server-side failure)', async () => {
    const { conversation, server, onError } = await connected();
    server.error(4999, 'new kind of failure');
    expect(onError).toHaveBeenCalledExactlyOnceWith({
      kind: 'server-error',
      code: 4999,
      message: 'new kind of failure',
      fatal: false,
    });
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
  });
});

// 1001 and 1005 as close codes are the WebSocket's "going away" and "no status", not the protocol's
// error codes of the same numbers (those arrive as `error` messages, tested above).
const FATAL_CLOSE = FATAL.filter(([code]) => code !== 1001 && code !== 1005);

describe('close codes', () => {
  it.each(FATAL_CLOSE)('close %i ends with a %s error and never reconnects', async (code, kind) => {
    vi.useFakeTimers();
    const { conversation, server, onDisconnect } = await connected();
    server.serverClose(code, '');
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind, code, fatal: true },
    });
    expect(onDisconnect.mock.calls[0]?.[0]).toMatchObject({ by: 'error', closeCode: code });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sockets).toHaveLength(1);
  });

  it.each([[4429], [4500], [1001], [1005], [1006], [1011], [1012]])('close %i reconnects', async (code) => {
    vi.useFakeTimers();
    const { conversation, server } = await connected();
    server.serverClose(code);
    expect(conversation.store.getState().status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
  });

  it('a 4429 close on the very first connection is retried too', async () => {
    vi.useFakeTimers();
    const { conversation, server } = createTestConversation({ server: { autoInit: false } });
    void conversation.start();
    await vi.advanceTimersByTimeAsync(0);
    server.serverClose(4429);
    expect(conversation.store.getState()).toMatchObject({
      status: 'reconnecting',
      error: { kind: 'too-many-connections' },
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(server.sockets).toHaveLength(2);
    await conversation.stop();
  });

  it.each([[1001], [1005]])(
    'an error message 1001 followed by close %i ends the conversation: the message decides',
    async (closeCode) => {
      vi.useFakeTimers();
      const { conversation, server } = await connected();
      server.error(1001, 'Invalid authorization token.');
      server.serverClose(closeCode);
      expect(conversation.store.getState()).toMatchObject({
        status: 'error',
        error: { kind: 'unauthorized', code: 1001, fatal: true },
      });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(server.sockets).toHaveLength(1);
    },
  );

  it('a normal close (1000) without hangup ends the conversation', async () => {
    const { conversation, server, onDisconnect } = await connected();
    server.serverClose(1000);
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', error: null });
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'agent', closeCode: 1000 });
  });
});
