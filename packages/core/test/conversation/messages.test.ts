import type { ConversationError, ConversationMode } from '@voicewire/core';
import { createTestConversation } from '@voicewire/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { watchInternalErrors } from '../../../../testing/internalErrors.ts';
import { DRAIN_GRACE_MS } from '../../src/conversation/turnTaking.ts';

async function connected(options: Parameters<typeof createTestConversation>[0] = {}) {
  const test = createTestConversation(options);
  await test.conversation.start();
  const player = test.audio.player;
  const capture = test.audio.capture;
  if (!player || !capture) throw new Error('audio not created');
  return { ...test, player, capture };
}

describe('server messages', () => {
  it('audioStream: the decoded bytes go to the player, in order', async () => {
    const { conversation, server, player } = await connected();
    server.serverSend({ type: 'newAudioStream' });
    server.audio(new Uint8Array([1, 2, 3]));
    server.audio(new Uint8Array([4, 5]));
    expect(player.enqueued.map((b) => [...b])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(player.calls).toEqual(['newStream', 'enqueue', 'enqueue']);
    await conversation.stop();
  });

  it('audioStream with bad base64 is a non-fatal protocol error; the call goes on', async () => {
    const onError = vi.fn();
    const { conversation, server, player } = await connected({ onError });
    server.serverSend({ type: 'audioStream', data: '@@not base64@@' });
    expect(onError).toHaveBeenCalledTimes(1);
    const error = onError.mock.calls[0]?.[0] as ConversationError;
    expect(error).toMatchObject({ kind: 'protocol', fatal: false });
    expect(error.message).toMatch(/base64/);
    expect(player.enqueued).toHaveLength(0);
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', error: null });
    server.audio(new Uint8Array([9]));
    expect(player.enqueued).toHaveLength(1);
    await conversation.stop();
  });

  it('audio that arrives before the player has loaded is played once it has', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const test = createTestConversation();
    const { createFakePlayer } = await import('@voicewire/core/testing');
    let made: ReturnType<typeof createFakePlayer> | undefined;
    const conversation = createTestConversation({
      WebSocket: test.server.WebSocket,
      audio: {
        createCapture: test.audio.createCapture,
        createPlayer: async (options) => {
          await gate;
          made = createFakePlayer(options);
          return made;
        },
      },
    }).conversation;
    const started = conversation.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(conversation.store.getState().status).toBe('connected');
    test.server.greet('Hi', [new Uint8Array([7, 7])]);
    test.server.serverSend({ type: 'voiceActivityStart' });
    test.server.agentSays('Sure', [new Uint8Array([8])]);
    release();
    await started;
    expect(made?.calls).toEqual([
      'newStream',
      'enqueue',
      'endStream',
      'interrupt',
      'newStream',
      'enqueue',
      'endStream',
    ]);
    expect(made?.enqueued.map((b) => [...b])).toEqual([[7, 7], [8]]);
    await conversation.stop();
  });

  it('the greeting plays while the microphone permission prompt is still open', async () => {
    const test = createTestConversation();
    let grant: () => void = () => {};
    const permission = new Promise<void>((resolve) => {
      grant = resolve;
    });
    const { conversation } = createTestConversation({
      WebSocket: test.server.WebSocket,
      audio: {
        createPlayer: test.audio.createPlayer,
        createCapture: async (options) => {
          await permission;
          return test.audio.createCapture(options);
        },
      },
    });
    const started = conversation.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    test.server.greet('Hello!', [new Uint8Array([5])]);
    expect(test.audio.player?.enqueued.map((b) => [...b])).toEqual([[5]]);
    test.audio.player?.emitStarted();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    grant();
    await started;
    expect(test.audio.capture).toBeDefined();
    await conversation.stop();
    expect(test.audio.player?.closed).toBe(true);
    expect(test.audio.capture?.stopped).toBe(true);
  });

  it('newAudioStream starts a new player stream; audioStreamEnd ends it', async () => {
    const { conversation, server, player } = await connected();
    server.serverSend({ type: 'newAudioStream' });
    server.serverSend({ type: 'audioStreamStart' });
    server.serverSend({ type: 'audioStreamEnd', audioStreamEnd: { message: 'done', jobId: 'j1' } });
    expect(player.calls).toEqual(['newStream', 'endStream']);
    expect(player.generation).toBe(1);
    await conversation.stop();
  });

  it('onUserTranscript / onAgentTranscript / greeting reach the transcript and the callbacks', async () => {
    const onUserTranscript = vi.fn();
    const onAgentTranscript = vi.fn();
    const { conversation, server } = await connected({ onUserTranscript, onAgentTranscript });
    server.serverSend({ type: 'onAgentGreeting', message: 'Welcome!' });
    server.serverSend({ type: 'onAgentGreetingEnd', message: 'Welcome!' });
    server.serverSend({ type: 'onUserTranscript', message: 'What is the weather?' });
    server.serverSend({ type: 'onAgentTranscript', message: 'Sunny.' });
    expect(conversation.store.getState().transcript).toEqual([
      { id: 'turn-1', role: 'agent', text: 'Welcome!', interrupted: false },
      { id: 'turn-2', role: 'user', text: 'What is the weather?', interrupted: false },
      { id: 'turn-3', role: 'agent', text: 'Sunny.', interrupted: false },
    ]);
    expect(onUserTranscript).toHaveBeenCalledExactlyOnceWith('What is the weather?');
    expect(onAgentTranscript.mock.calls).toEqual([['Welcome!'], ['Sunny.']]);
    await conversation.stop();
  });

  it('onAgentGreetingEnd completes the greeting but never adds a turn after a barge-in or the user', async () => {
    const { conversation, server } = await connected();
    server.serverSend({ type: 'onAgentGreeting', message: 'Hello, I am' });
    server.serverSend({ type: 'onAgentGreetingEnd', message: 'Hello, I am your assistant.' });
    expect(conversation.store.getState().transcript.map((t) => t.text)).toEqual([
      'Hello, I am your assistant.',
    ]);
    server.serverSend({ type: 'onAgentInterrupted', updatedMessage: 'Hello' });
    server.serverSend({ type: 'onAgentGreetingEnd', message: 'Hello, I am your assistant.' });
    server.serverSend({ type: 'onUserTranscript', message: 'Hi' });
    server.serverSend({ type: 'onAgentGreetingEnd', message: 'Hello, I am your assistant.' });
    expect(conversation.store.getState().transcript).toEqual([
      { id: 'turn-1', role: 'agent', text: 'Hello', interrupted: true },
      { id: 'turn-2', role: 'user', text: 'Hi', interrupted: false },
    ]);
    await conversation.stop();
  });

  it('onAgentInterrupted truncates the last agent turn and marks it', async () => {
    const { conversation, server } = await connected();
    server.serverSend({ type: 'onAgentTranscript', message: 'Let me tell you a very long story about' });
    server.serverSend({ type: 'voiceActivityStart' });
    server.serverSend({ type: 'onAgentInterrupted', updatedMessage: 'Let me tell you' });
    expect(conversation.store.getState().transcript).toEqual([
      { id: 'turn-1', role: 'agent', text: 'Let me tell you', interrupted: true },
    ]);
    // Without updatedMessage the text stays and the turn is still marked.
    server.serverSend({ type: 'onAgentTranscript', message: 'Sorry, go on.' });
    server.serverSend({ type: 'onAgentInterrupted' });
    expect(conversation.store.getState().transcript[1]).toEqual({
      id: 'turn-2',
      role: 'agent',
      text: 'Sorry, go on.',
      interrupted: true,
    });
    await conversation.stop();
  });

  it('customEvent calls onCustomEvent and the "customEvent" listeners with name and data', async () => {
    const onCustomEvent = vi.fn();
    const { conversation, server } = await connected({ onCustomEvent });
    const listener = vi.fn();
    conversation.on('customEvent', listener);
    server.serverSend({ type: 'customEvent', name: 'showProduct', data: { sku: 42 } });
    server.serverSend({ type: 'customEvent', name: 'ping' });
    expect(onCustomEvent.mock.calls).toEqual([
      [{ name: 'showProduct', data: { sku: 42 } }],
      [{ name: 'ping', data: undefined }],
    ]);
    expect(listener).toHaveBeenCalledTimes(2);
    await conversation.stop();
  });

  it('hangup ends the conversation: status ended, onDisconnect by agent, everything released', async () => {
    const onDisconnect = vi.fn();
    const { conversation, server, player, capture } = await connected({ onDisconnect });
    server.hangup('agent');
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', error: null });
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'agent' });
    expect(capture.stopped).toBe(true);
    expect(player.closed).toBe(true);
    expect(server.socket?.readyState).toBe(3);
    expect(server.socket?.clientClose?.code).toBe(1000);
  });

  it('ignorable and unknown types change nothing but still reach onMessage', async () => {
    const onMessage = vi.fn();
    const onError = vi.fn();
    const { conversation, server, player } = await connected({ onMessage, onError });
    const before = conversation.store.getState();
    onMessage.mockClear();
    const frames = [
      { type: 'llmStreamEnd' },
      { type: 'SYS_LOG', text: 'x' },
      { type: 'MEDIA_LOG' },
      { type: 'navigate', url: '/x' },
      { type: 'uiEvent', name: 'y' },
      { type: 'somethingNew', payload: [1, 2] },
    ];
    for (const frame of frames) server.serverSend(frame);
    expect(onMessage.mock.calls.map((c) => JSON.parse(c[0] as string).type)).toEqual(
      frames.map((f) => f.type),
    );
    expect(conversation.store.getState()).toBe(before);
    expect(player.calls).toEqual([]);
    expect(onError).not.toHaveBeenCalled();
    await conversation.stop();
  });

  it('onMessage gets every frame raw, including init and audio', async () => {
    const onMessage = vi.fn();
    const { conversation, server } = await connected({ onMessage });
    server.audio(new Uint8Array([1]));
    expect(onMessage.mock.calls.map((c) => JSON.parse(c[0] as string).type)).toEqual(['init', 'audioStream']);
    await conversation.stop();
  });

  it('malformed frames never throw: each is a non-fatal protocol error and the call goes on', async () => {
    const watch = watchInternalErrors();
    onTestFinished(() => watch.restore());
    const onError = vi.fn();
    const { conversation, server, player } = await connected({ onError });
    const socket = server.socket;
    if (!socket) throw new Error('no socket');
    const bad: unknown[] = [
      'not json',
      '',
      '[]',
      'null',
      '{"type":42}',
      '{"no":"type"}',
      '{"type":"audioStream"}',
      '{"type":"audioStream","data":5}',
      '{"type":"error"}',
      '{"type":"init"}',
      '{"type":"customEvent"}',
      '{"type":"onUserTranscript","message":{}}',
      '{"__proto__":{"polluted":true},"type":"init","conversationId":"x"}',
      `{"type":"audioStream","data":"${'A'.repeat(5)}"}`,
      '{"a":'.repeat(10_000),
    ];
    for (const text of bad) expect(() => socket.serverSend(text as string)).not.toThrow();
    // A binary frame (the protocol is text only).
    expect(() =>
      socket.onmessage?.call(socket as never, new MessageEvent('message', { data: new ArrayBuffer(8) })),
    ).not.toThrow();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(conversation.store.getState().status).toBe('connected');
    expect(onError.mock.calls.every((c) => (c[0] as ConversationError).fatal === false)).toBe(true);
    expect(onError.mock.calls.every((c) => (c[0] as ConversationError).kind === 'protocol')).toBe(true);
    expect(onError.mock.calls.length).toBeGreaterThanOrEqual(12);
    expect(player.enqueued).toHaveLength(0);
    server.serverSend({ type: 'onUserTranscript', message: 'still here' });
    expect(conversation.store.getState().transcript).toHaveLength(1);
    await conversation.stop();
    // Not one of them was an internal error the socket handler caught and logged.
    watch.expectNone();
  });

  it('a callback that throws does not break the conversation', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { conversation, server } = await connected({
      onUserTranscript: () => {
        throw new Error('integrator bug');
      },
    });
    expect(() => server.serverSend({ type: 'onUserTranscript', message: 'hello' })).not.toThrow();
    expect(conversation.store.getState().transcript[0]?.text).toBe('hello');
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    await conversation.stop();
  });
});

describe('mode', () => {
  it('listening -> userSpeaking -> thinking -> agentSpeaking -> listening', async () => {
    const modes: ConversationMode[] = [];
    const { conversation, server, player } = await connected({ onModeChange: (mode) => modes.push(mode) });
    expect(conversation.store.getState().mode).toBe('listening');
    server.serverSend({ type: 'voiceActivityStart' });
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    server.serverSend({ type: 'voiceActivityEnd' });
    expect(conversation.store.getState().mode).toBe('thinking');
    server.agentSays('Hello', [new Uint8Array([1, 2])]);
    // Audio queued is not audio heard: the mode waits for the player's first audible sample.
    expect(conversation.store.getState().mode).toBe('thinking');
    player.emitStarted();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    player.emitDrained();
    expect(conversation.store.getState().mode).toBe('listening');
    expect(modes).toEqual(['userSpeaking', 'thinking', 'agentSpeaking', 'listening']);
    await conversation.stop();
  });

  it('barge-in: voiceActivityStart interrupts the player before any other effect', async () => {
    const order: string[] = [];
    const { conversation, server, player } = await connected({
      onMessage: () => order.push('onMessage'),
      onModeChange: (mode) => order.push(`mode:${mode}`),
    });
    conversation.on('message', () => order.push('message listener'));
    conversation.store.subscribe(() => order.push('store'));
    server.agentSays('A long answer', [new Uint8Array([1])]);
    player.emitStarted();
    const originalInterrupt = player.interrupt.bind(player);
    player.interrupt = () => {
      order.push('interrupt');
      originalInterrupt();
    };
    order.length = 0;
    server.serverSend({ type: 'voiceActivityStart' });
    expect(order[0]).toBe('interrupt');
    expect(order).toEqual(['interrupt', 'onMessage', 'message listener', 'store', 'mode:userSpeaking']);
    // The rest of the interrupted reply is not played.
    server.audio(new Uint8Array([2]));
    expect(player.enqueued.map((b) => [...b])).toEqual([[1]]);
    expect(player.getStats().chunksDropped).toBe(1);
    await conversation.stop();
  });

  it('a reply that runs dry before its end keeps agentSpeaking through a network gap', async () => {
    vi.useFakeTimers();
    const { conversation, server, player } = await connected();
    server.serverSend({ type: 'newAudioStream' });
    server.audio(new Uint8Array([1]));
    player.emitStarted();
    // The queue runs dry mid-reply (the next chunk is late), then the reply goes on.
    player.emitDrained();
    vi.advanceTimersByTime(DRAIN_GRACE_MS - 1);
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    player.emitUnderrun();
    vi.advanceTimersByTime(1000);
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    // A longer gap: listening after the grace, agentSpeaking again when the reply resumes.
    player.emitDrained();
    vi.advanceTimersByTime(DRAIN_GRACE_MS);
    expect(conversation.store.getState().mode).toBe('listening');
    player.emitUnderrun();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    // Dry, then the server says the reply is complete: listening at once.
    player.emitDrained();
    server.serverSend({ type: 'audioStreamEnd' });
    expect(conversation.store.getState().mode).toBe('listening');
    // The pending switch was cancelled (and the connect timer ended at init): no timer is left.
    expect(vi.getTimerCount()).toBe(0);
    player.emitDrained();
    expect(vi.getTimerCount()).toBe(0);
    await conversation.stop();
    vi.useRealTimers();
  });

  it('a drained event after a barge-in does not hide that the user is speaking', async () => {
    const { conversation, server, player } = await connected();
    server.agentSays('Hi', [new Uint8Array([1])]);
    player.emitStarted();
    server.serverSend({ type: 'voiceActivityStart' });
    player.emitDrained();
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    await conversation.stop();
  });

  it('counts time to first audio per turn and the interruption time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const { conversation, server, player } = await connected();
    await vi.advanceTimersByTimeAsync(0);
    server.greet('Hello', [new Uint8Array([1])]);
    vi.advanceTimersByTime(120);
    player.emitStarted();
    player.emitDrained();
    server.userSays('Hi');
    vi.advanceTimersByTime(300);
    server.agentSays('Yes?', [new Uint8Array([2])]);
    vi.advanceTimersByTime(50);
    player.emitStarted();
    server.serverSend({ type: 'voiceActivityStart' });
    // The player reports the fade's end asynchronously: the stats pick it up once it has settled.
    vi.advanceTimersByTime(150);
    const stats = conversation.getStats();
    vi.useRealTimers();
    expect(stats.timeToFirstAudioMs).toEqual([120, 350]);
    expect(stats.interruptionMs).toEqual([4]);
    // getStats returns a copy.
    stats.timeToFirstAudioMs.push(99);
    expect(conversation.getStats().timeToFirstAudioMs).toHaveLength(2);
    await conversation.stop();
  });
});
