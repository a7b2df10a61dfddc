import { decodeBase64, MAX_SEND_BACKLOG_MS, VoicewireError } from '@voicewire/core';
import { createFakeAudio, createTestConversation, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
  FakeAudioContext.instances.length = 0;
});

async function connected(options: Parameters<typeof createTestConversation>[0] = {}) {
  const onDisconnect = vi.fn();
  const test = createTestConversation({ onDisconnect, ...options });
  await test.conversation.start();
  const capture = test.audio.capture;
  const player = test.audio.player;
  if (!capture || !player) throw new Error('audio not created');
  return { ...test, capture, player, onDisconnect, context: FakeAudioContext.instances.at(-1) };
}

describe('audio uplink', () => {
  it('streams each frame as audioIn with its base64 bytes, and counts them', async () => {
    const { conversation, server, capture } = await connected();
    const frame = new Uint8Array(640).map((_, i) => i % 251);
    capture.emitFrame(frame);
    capture.emitFrames(4);
    const sent = server.received('audioIn');
    expect(sent).toHaveLength(5);
    expect(new Uint8Array(Buffer.from(sent[0]?.data ?? '', 'base64'))).toEqual(frame);
    const stats = conversation.getStats();
    expect(stats.framesSent).toBe(5);
    expect(stats.framesDropped).toBe(0);
    const wireBytes = server.socket?.sent.reduce((sum, f) => sum + f.raw.length, 0);
    expect(stats.bytesSent).toBe(wireBytes);
    await conversation.stop();
  });

  it('drops and counts frames on a slow uplink instead of queueing without bound', async () => {
    const { conversation, server, capture } = await connected();
    const socket = server.socket;
    if (!socket) throw new Error('no socket');
    capture.emitFrame();
    const frameMessageBytes = socket.sent.at(-1)?.raw.length ?? 0;
    const budgetFrames = MAX_SEND_BACKLOG_MS / 20;
    // The network is stuck: everything sent stays in bufferedAmount.
    socket.bufferedAmount = frameMessageBytes * (budgetFrames - 1);
    capture.emitFrame();
    socket.bufferedAmount += frameMessageBytes;
    for (let i = 0; i < 100; i++) capture.emitFrame();
    expect(conversation.getStats()).toMatchObject({ framesSent: 2, framesDropped: 100 });
    expect(server.received('audioIn')).toHaveLength(2);
    // The network recovers: frames flow again.
    socket.bufferedAmount = 0;
    capture.emitFrames(3);
    expect(conversation.getStats()).toMatchObject({ framesSent: 5, framesDropped: 100 });
    await conversation.stop();
  });

  it('counts bytes and messages received', async () => {
    const { conversation, server } = await connected();
    server.serverSend({ type: 'voiceActivityStart' });
    const stats = conversation.getStats();
    expect(stats.messagesReceived).toBe(2);
    expect(stats.bytesReceived).toBe(
      JSON.stringify({ type: 'init', conversationId: 'conv-1', agentOwnerId: 'owner-1' }).length +
        JSON.stringify({ type: 'voiceActivityStart' }).length,
    );
    await conversation.stop();
  });
});

describe('controls', () => {
  it('mute()/unmute() mute the capture and are in the store', async () => {
    const { conversation, capture } = await connected();
    conversation.mute();
    expect(capture.muted).toBe(true);
    expect(conversation.store.getState().isMuted).toBe(true);
    conversation.unmute();
    expect(capture.muted).toBe(false);
    expect(conversation.store.getState().isMuted).toBe(false);
    await conversation.stop();
  });

  it('muting before start starts the mic muted', async () => {
    const test = createTestConversation();
    test.conversation.mute();
    await test.conversation.start();
    expect(test.audio.capture?.muted).toBe(true);
    await test.conversation.stop();
  });

  it('muted: what the capture still delivers goes out as silence (frames before it was handed over, in flight after mute())', async () => {
    const loud = new Uint8Array(640).fill(0x40);
    const audio = createFakeAudio();
    const test = createTestConversation({
      audio: {
        ...audio.factories,
        // As the real capture does: it confirms the microphone is live (frames flow) before it resolves.
        async createCapture(options) {
          const capture = await audio.createCapture(options);
          options.onFrame(loud, { captureTime: 0 });
          return capture;
        },
      },
    });
    test.conversation.mute();
    await test.conversation.start();
    const sent = () => test.server.received('audioIn').map((m) => decodeBase64(m.data ?? ''));
    expect(sent()).toHaveLength(1);
    // A frame still in flight from the audio thread when mute() was called.
    audio.capture!.emitFrame(loud);
    expect(sent().map((frame) => frame.some((byte) => byte !== 0))).toEqual([false, false]);
    test.conversation.unmute();
    audio.capture!.emitFrame(loud);
    expect(sent()[2]).toEqual(loud);
    await test.conversation.stop();
  });

  it('setVolume reaches the player, clamped, and is kept for the next player', async () => {
    const { conversation, player, audio } = await connected();
    conversation.setVolume(0.25);
    expect(player.volume).toBe(0.25);
    conversation.setVolume(7);
    expect(player.volume).toBe(1);
    conversation.setVolume(0.5);
    await conversation.stop();
    await conversation.start();
    expect(audio.player?.options.volume).toBe(0.5);
    await conversation.stop();
  });

  it('sendCustomInput sends customInput; before setup it waits for setup', async () => {
    const { conversation, server } = await connected();
    conversation.sendCustomInput('The user clicked "Buy"');
    expect(server.received('customInput')).toEqual([{ type: 'customInput', data: 'The user clicked "Buy"' }]);
    await conversation.stop();

    const test = createTestConversation({ server: { autoOpen: false } });
    const started = test.conversation.start();
    test.conversation.sendCustomInput('early');
    expect(test.server.sent).toHaveLength(0);
    test.server.open();
    await started;
    expect(test.server.socket?.sent.map((f) => f.message?.type)).toEqual(['setup', 'customInput']);
    await test.conversation.stop();
  });

  it('levels are read on demand, 0 when idle, and never written to the store', async () => {
    const test = createTestConversation();
    expect(test.conversation.getInputLevel()).toBe(0);
    expect(test.conversation.getOutputLevel()).toBe(0);
    await test.conversation.start();
    const writes = vi.fn();
    test.conversation.store.subscribe(writes);
    test.audio.capture?.setLevel(0.3);
    test.audio.player?.setLevel(0.6);
    for (let i = 0; i < 100; i++) {
      expect(test.conversation.getInputLevel()).toBe(0.3);
      expect(test.conversation.getOutputLevel()).toBe(0.6);
      test.audio.capture?.emitFrame();
      test.server.audio(new Uint8Array([1, 2]));
    }
    expect(writes).not.toHaveBeenCalled();
    await test.conversation.stop();
    expect(test.conversation.getInputLevel()).toBe(0);
    expect(test.conversation.getOutputLevel()).toBe(0);
  });

  it('on() returns an unsubscribe; setCallbacks swaps callbacks without reconnecting', async () => {
    const first = vi.fn();
    const second = vi.fn();
    const listener = vi.fn();
    const { conversation, server } = await connected({ onUserTranscript: first });
    const off = conversation.on('userTranscript', listener);
    server.serverSend({ type: 'onUserTranscript', message: 'one' });
    conversation.setCallbacks({ onUserTranscript: second });
    off();
    server.serverSend({ type: 'onUserTranscript', message: 'two' });
    expect(first.mock.calls).toEqual([['one']]);
    expect(second.mock.calls).toEqual([['two']]);
    expect(listener.mock.calls).toEqual([['one']]);
    expect(server.sockets).toHaveLength(1);
    await conversation.stop();
  });

  it('setCallbacks replaces every callback: one not given is gone', async () => {
    const onUserTranscript = vi.fn();
    const onAgentTranscript = vi.fn();
    const { conversation, server } = await connected({ onUserTranscript, onAgentTranscript });
    conversation.setCallbacks({ onAgentTranscript });
    server.serverSend({ type: 'onUserTranscript', message: 'unheard' });
    server.serverSend({ type: 'onAgentTranscript', message: 'heard' });
    expect(onUserTranscript).not.toHaveBeenCalled();
    expect(onAgentTranscript.mock.calls).toEqual([['heard']]);
    expect(conversation.options.agentId).toBe('test-agent');
    await conversation.stop();
  });

  it('setOptions: callbacks and getToken at once, the agent and formats at the next start()', async () => {
    const first = vi.fn();
    const second = vi.fn();
    const { conversation, server } = await connected({
      onAgentTranscript: first,
      reconnect: { initialDelayMs: 1, jitter: 0 },
    });
    // Without the test's own provider: the default (PlayAI with the top-level agentId) from now on.
    const { provider: _testProvider, ...options } = conversation.options;
    const next = {
      ...options,
      agentId: 'other-agent',
      output: { format: 'mulaw' as const, sampleRate: 8000 },
      getToken: () => 'fresh-token',
      onAgentTranscript: second,
    };
    conversation.setOptions(next);
    expect(conversation.options).toBe(next);
    server.serverSend({ type: 'onAgentTranscript', message: 'still this call' });
    expect(first).not.toHaveBeenCalled();
    expect(second.mock.calls).toEqual([['still this call']]);
    // The live call keeps what it started with, through a reconnect too (only the token is new).
    server.serverClose(1006);
    await vi.waitFor(() => expect(server.sockets).toHaveLength(2));
    expect(server.sockets[1]?.url).toBe('ws://scripted.test/v1/talk/test-agent?token=fresh-token');
    await conversation.stop();
    await conversation.start();
    expect(server.sockets.at(-1)?.url).toBe('ws://scripted.test/v1/talk/other-agent?token=fresh-token');
    expect(server.received('setup').at(-1)).toMatchObject({ outputFormat: 'mulaw', outputSampleRate: 8000 });
    await conversation.stop();
  });

  it('the store is written only on real changes', async () => {
    const { conversation, server } = await connected();
    const writes = vi.fn();
    conversation.store.subscribe(writes);
    server.serverSend({ type: 'voiceActivityStart' });
    server.serverSend({ type: 'voiceActivityStart' });
    server.serverSend({ type: 'audioStreamStart' });
    conversation.unmute();
    expect(writes).toHaveBeenCalledTimes(1);
    await conversation.stop();
  });
});

describe('stop and every end path', () => {
  it('stop() is idempotent and releases mic, player, context and socket', async () => {
    const { conversation, server, capture, player, context, onDisconnect } = await connected();
    await Promise.all([conversation.stop(), conversation.stop()]);
    await conversation.stop();
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', error: null, mode: 'listening' });
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'user' });
    expect(capture.stopped).toBe(true);
    expect(player.closed).toBe(true);
    expect(context?.state).toBe('closed');
    expect(context?.closeCalls).toBe(1);
    expect(server.socket?.readyState).toBe(3);
    expect(server.socket?.clientClose?.code).toBe(1000);
    // Nothing more goes out after stop.
    capture.emitFrame();
    expect(server.received('audioIn')).toHaveLength(0);
  });

  it("stop('unmount') reports who ended it", async () => {
    const { conversation, onDisconnect } = await connected();
    await conversation.stop('unmount');
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'unmount' });
  });

  it('stop() before start() does nothing', async () => {
    const test = createTestConversation();
    await test.conversation.stop();
    expect(test.conversation.store.getState().status).toBe('idle');
  });

  it('stop() while connecting releases the mic that was still opening', async () => {
    const test = createTestConversation({ server: { autoOpen: false } });
    const started = test.conversation.start();
    await test.conversation.stop();
    await started;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(test.audio.capture?.stopped).toBe(true);
    expect(test.audio.player?.closed).toBe(true);
    expect(test.server.socket?.readyState).toBe(3);
    expect(test.conversation.store.getState().status).toBe('ended');
  });

  it.each([
    ['hangup', (s: ReturnType<typeof createTestConversation>['server']) => s.hangup(), 'ended'],
    [
      'fatal error',
      (s: ReturnType<typeof createTestConversation>['server']) => s.error(1002, 'no agent'),
      'error',
    ],
    ['close 4401', (s: ReturnType<typeof createTestConversation>['server']) => s.serverClose(4401), 'error'],
    [
      'normal close',
      (s: ReturnType<typeof createTestConversation>['server']) => s.serverClose(1000),
      'ended',
    ],
  ] as const)('%s releases everything and leaves no timer', async (_name, end, status) => {
    vi.useFakeTimers();
    const { conversation, server, capture, player, context } = await connected();
    end(server);
    expect(conversation.store.getState().status).toBe(status);
    expect(capture.stopped).toBe(true);
    expect(player.closed).toBe(true);
    expect(context?.state).toBe('closed');
    expect(server.socket?.readyState).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([[false], [{ maxAttempts: 0 }]] as const)(
    'a socket drop with reconnect %j releases everything',
    async (reconnect) => {
      vi.useFakeTimers();
      const { conversation, server, capture, context } = await connected({ reconnect });
      server.serverClose(1006);
      expect(conversation.store.getState().status).toBe('error');
      expect(capture.stopped).toBe(true);
      expect(context?.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it('the microphone lost mid-call ends the call with that error', async () => {
    const { conversation, capture, server } = await connected();
    capture.fail(new VoicewireError({ kind: 'microphone-lost', message: 'The microphone was unplugged.' }));
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'microphone-lost', message: 'The microphone was unplugged.', fatal: true },
    });
    expect(server.socket?.readyState).toBe(3);
  });

  it('a player decode error is reported but does not end the call', async () => {
    const onError = vi.fn();
    const { conversation, player } = await connected({ onError });
    player.emitError(new VoicewireError({ kind: 'decode', message: 'bad mp3 frame', fatal: false }));
    expect(onError).toHaveBeenCalledExactlyOnceWith({
      kind: 'decode',
      message: 'bad mp3 frame',
      fatal: false,
    });
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
  });
});
