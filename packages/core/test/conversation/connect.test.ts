import { type ConversationStatus, createConversation } from '@voicewire/core';
import {
  createFakeAudio,
  createScriptedServer,
  createTestConversation,
  FakeAudioContext,
} from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.useRealTimers();
  FakeAudioContext.instances.length = 0;
});

describe('socket URL', () => {
  it('opens <url>/<agentId> with the agent id encoded and trailing slashes dropped', async () => {
    const { conversation, server } = createTestConversation({
      agentId: 'Agent/XP 5',
      url: 'ws://127.0.0.1:8787/v1/talk//',
    });
    await conversation.start();
    expect(server.socket?.url).toBe('ws://127.0.0.1:8787/v1/talk/Agent%2FXP%205');
    await conversation.stop();
  });

  it('defaults to PlayAI and adds ?token= for a relay token', async () => {
    const server = createScriptedServer();
    const audio = createFakeAudio();
    const conversation = createConversation({
      agentId: 'Agent-1',
      token: 'a.b+c',
      WebSocket: server.WebSocket,
      AudioContext: FakeAudioContext as unknown as typeof AudioContext,
      audio: audio.factories,
    });
    await conversation.start();
    expect(server.socket?.url).toBe('wss://api.play.ai/v1/talk/Agent-1?token=a.b%2Bc');
    await conversation.stop();
  });
});

describe('setup', () => {
  it('sends setup first with every configured field, then the audio', async () => {
    const { conversation, server, audio } = createTestConversation({
      apiKey: 'key-1',
      input: { encoding: 'mulaw', sampleRate: 8000, frameMs: 40 },
      output: { format: 'mp3', sampleRate: 44_100 },
      customGreeting: 'Hi there',
      prompt: 'Be brief.',
      continueConversation: 'conv-old',
    });
    await conversation.start();
    const first = server.socket?.sent[0]?.message;
    expect(first).toEqual({
      type: 'setup',
      apiKey: 'key-1',
      outputFormat: 'mp3',
      outputSampleRate: 44_100,
      inputEncoding: 'mulaw',
      inputSampleRate: 8000,
      customGreeting: 'Hi there',
      prompt: 'Be brief.',
      continueConversation: 'conv-old',
    });
    // The capture is configured to produce what setup announced.
    expect(audio.capture?.options).toMatchObject({ encoding: 'mulaw', sampleRate: 8000, frameMs: 40 });
    expect(audio.player?.options).toMatchObject({ format: 'mp3', sampleRate: 44_100 });
    expect(audio.capture?.frameBytes).toBe(320);
    await conversation.stop();
  });

  it('defaults: linear16 16 kHz 20 ms in, wav 24 kHz out, no apiKey when none is given', async () => {
    const { conversation, server, audio } = createTestConversation();
    await conversation.start();
    expect(server.received('setup')).toEqual([
      {
        type: 'setup',
        outputFormat: 'wav',
        outputSampleRate: 24_000,
        inputEncoding: 'linear16',
        inputSampleRate: 16_000,
      },
    ]);
    expect(audio.capture?.frameBytes).toBe(640);
    await conversation.stop();
  });

  it('sends nothing before the socket opens; frames captured meanwhile follow setup, in order', async () => {
    const { conversation, server, audio } = createTestConversation({ server: { autoOpen: false } });
    const started = conversation.start();
    await flush();
    expect(server.socket?.readyState).toBe(0);
    const capture = audio.capture;
    if (!capture) throw new Error('no capture');
    capture.emitFrame(new Uint8Array([1, 1]));
    capture.emitFrame(new Uint8Array([2, 2]));
    expect(server.sent).toHaveLength(0);
    server.open();
    await started;
    const types = server.socket?.sent.map((frame) => frame.message?.type);
    expect(types).toEqual(['setup', 'audioIn', 'audioIn']);
    const data = server.received('audioIn').map((m) => Buffer.from(m.data, 'base64'));
    // Copies were kept: the capture reuses one buffer for every frame.
    expect([data[0]?.[0], data[1]?.[0]]).toEqual([1, 2]);
    expect(data[0]?.length).toBe(640);
    await conversation.stop();
  });

  it('keeps at most one second of audio captured before setup, dropping the oldest', async () => {
    const { conversation, server, audio } = createTestConversation({ server: { autoOpen: false } });
    const started = conversation.start();
    await flush();
    for (let i = 0; i < 60; i++) audio.capture?.emitFrame(new Uint8Array([i]));
    server.open();
    await started;
    const frames = server.received('audioIn');
    expect(frames).toHaveLength(50);
    expect(Buffer.from(frames[0]?.data ?? '', 'base64')[0]).toBe(10);
    expect(conversation.getStats().framesDropped).toBe(10);
    await conversation.stop();
  });
});

describe('start', () => {
  it('goes idle -> connecting -> connected, sets the conversation id and calls onConnect once', async () => {
    const onConnect = vi.fn();
    const statuses: ConversationStatus[] = [];
    const { conversation } = createTestConversation({ onConnect, server: { autoInit: 'conv-42' } });
    conversation.on('statusChange', (status) => statuses.push(status));
    expect(conversation.store.getState().status).toBe('idle');
    const started = conversation.start();
    expect(conversation.store.getState().status).toBe('connecting');
    await started;
    expect(statuses).toEqual(['connecting', 'connected']);
    expect(conversation.store.getState().conversationId).toBe('conv-42');
    expect(onConnect).toHaveBeenCalledExactlyOnceWith('conv-42');
    await conversation.stop();
  });

  it('creates and resumes the AudioContext synchronously inside start()', () => {
    const { conversation } = createTestConversation();
    void conversation.start();
    // No await yet: the context exists and resume() was called in the same task as start().
    expect(FakeAudioContext.instances).toHaveLength(1);
    expect(FakeAudioContext.instances[0]?.resumeCalls).toBe(1);
    expect(FakeAudioContext.instances[0]?.options).toEqual({ latencyHint: 'interactive' });
    void conversation.stop();
  });

  it('a double start (double click) opens one socket, one mic and one context', async () => {
    const { conversation, server, audio } = createTestConversation();
    const a = conversation.start();
    const b = conversation.start();
    await Promise.all([a, b]);
    await conversation.start();
    expect(server.sockets).toHaveLength(1);
    expect(audio.captures).toHaveLength(1);
    expect(audio.players).toHaveLength(1);
    expect(FakeAudioContext.instances).toHaveLength(1);
    await conversation.stop();
  });

  it('start() after stop() begins a fresh conversation', async () => {
    const { conversation, server, audio } = createTestConversation();
    await conversation.start();
    server.greet('Hello');
    audio.capture?.emitFrames(2);
    await conversation.stop();
    expect(conversation.store.getState().transcript).toHaveLength(1);
    await conversation.start();
    expect(server.sockets).toHaveLength(2);
    expect(server.sockets[1]?.messages('setup')[0]).not.toHaveProperty('continueConversation');
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', transcript: [], error: null });
    expect(conversation.getStats().framesSent).toBe(0);
    await conversation.stop();
  });

  it('times out with a structured error when init never comes, and releases everything', async () => {
    vi.useFakeTimers();
    const onError = vi.fn();
    const onDisconnect = vi.fn();
    const { conversation, server, audio } = createTestConversation({
      connectTimeoutMs: 5000,
      onError,
      onDisconnect,
      server: { autoInit: false },
    });
    const started = conversation.start();
    await vi.advanceTimersByTimeAsync(4999);
    expect(conversation.store.getState().status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    await started;
    const error = { kind: 'timeout', message: 'The voice agent did not answer within 5000 ms.', fatal: true };
    expect(conversation.store.getState()).toMatchObject({ status: 'error', error });
    expect(onError).toHaveBeenCalledExactlyOnceWith(error);
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'network', error });
    expect(server.socket?.readyState).toBe(3);
    expect(audio.capture?.stopped).toBe(true);
    expect(audio.player?.closed).toBe(true);
    expect(FakeAudioContext.instances[0]?.state).toBe('closed');
  });

  it('the default connect timeout is 15 s', async () => {
    vi.useFakeTimers();
    const { conversation } = createTestConversation({ server: { autoInit: false } });
    void conversation.start();
    await vi.advanceTimersByTimeAsync(14_999);
    expect(conversation.store.getState().status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(conversation.store.getState().error?.kind).toBe('timeout');
  });

  it('a server that refuses the connection is a network error, not a retry loop', async () => {
    const { conversation, server } = createTestConversation({ server: { autoOpen: false } });
    const started = conversation.start();
    server.socket?.serverRefuse();
    await started;
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'network', fatal: true },
    });
    expect(server.sockets).toHaveLength(1);
  });

  it('reports invalid options as an error instead of throwing', async () => {
    for (const [options, field] of [
      [{ agentId: '' }, 'agentId'],
      [{ input: { sampleRate: 3 } }, 'input.sampleRate'],
      [{ input: { frameMs: 5 } }, 'input.frameMs'],
      [{ output: { format: 'aac' as never } }, 'output.format'],
      [{ url: 'ftp://nope' }, 'url'],
      [{ url: 'https://api.example.com/v1/talk' }, 'url'],
      [{ connectTimeoutMs: 0 }, 'connectTimeoutMs'],
      [{ input: { sampleRate: 16_000, frameMs: 10.01 } }, 'input.frameMs'],
    ] as const) {
      const { conversation, server } = createTestConversation(options);
      await conversation.start();
      const state = conversation.store.getState();
      expect(state.status).toBe('error');
      expect(state.error?.kind).toBe('invalid-options');
      expect(state.error?.message).toContain(field);
      expect(server.sockets).toHaveLength(0);
    }
  });

  it('says which URL schemes it takes, and takes them', async () => {
    const { conversation } = createTestConversation({ url: 'http://example.com/v1/talk' });
    await conversation.start();
    expect(conversation.store.getState().error?.message).toMatch(/must start with wss:\/\/ or ws:\/\//);
    for (const url of ['ws://127.0.0.1:9/v1/talk', 'WSS://api.example.com/v1/talk']) {
      const { conversation: ok, server } = createTestConversation({ url });
      void ok.start();
      expect(server.sockets).toHaveLength(1);
      expect(server.socket?.url).toBe(`${url}/test-agent`);
      await ok.stop();
    }
  });

  it('a denied microphone ends the start with the capture error and closes the socket', async () => {
    const { conversation, server, audio } = createTestConversation();
    const { VoicewireError } = await import('@voicewire/core');
    audio.failNextCapture(
      new VoicewireError({ kind: 'microphone-permission-denied', message: 'Microphone blocked.' }),
    );
    await conversation.start();
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'microphone-permission-denied', message: 'Microphone blocked.', fatal: true },
    });
    expect(server.socket?.readyState).toBe(3);
    expect(audio.player?.closed).toBe(true);
    expect(FakeAudioContext.instances[0]?.state).toBe('closed');
  });

  it('without WebSocket or Web Audio the error says what is missing', async () => {
    const audio = createFakeAudio();
    const noContext = createConversation({
      agentId: 'a',
      audio: audio.factories,
      WebSocket: createScriptedServer().WebSocket,
    });
    await noContext.start();
    expect(noContext.store.getState().error?.kind).toBe('unsupported');
  });
});

describe('buildSocketUrl', () => {
  it('joins base and agent, keeps an existing query and adds the token to it', async () => {
    const { buildSocketUrl } = await import('@voicewire/core/playai/protocol');
    expect(buildSocketUrl('a b')).toBe('wss://api.play.ai/v1/talk/a%20b');
    expect(buildSocketUrl('x', 'ws://127.0.0.1:9/v1/talk/')).toBe('ws://127.0.0.1:9/v1/talk/x');
    expect(buildSocketUrl('x', 'ws://h/talk?region=eu', 't 1')).toBe('ws://h/talk/x?region=eu&token=t%201');
    expect(buildSocketUrl('x', 'ws://h/talk', '')).toBe('ws://h/talk/x');
  });

  it("takes the deployed SDK's path: a /v1/agents base, an {agentId} template, or a complete URL", async () => {
    const { buildSocketUrl } = await import('@voicewire/core/playai/protocol');
    expect(buildSocketUrl('a b', 'wss://api.play.ai/v1/agents')).toBe(
      'wss://api.play.ai/v1/agents/a%20b/start-conversation',
    );
    expect(buildSocketUrl('x', 'ws://h/v1/agents/', 't')).toBe(
      'ws://h/v1/agents/x/start-conversation?token=t',
    );
    expect(buildSocketUrl('a/b', 'ws://h/v1/agents/{agentId}/start-conversation?r=1')).toBe(
      'ws://h/v1/agents/a%2Fb/start-conversation?r=1',
    );
    expect(buildSocketUrl('x', 'ws://h/v1/agents/x/start-conversation/')).toBe(
      'ws://h/v1/agents/x/start-conversation',
    );
    // A base that merely ends like an agent id is still a base.
    expect(buildSocketUrl('talk', 'ws://h/v1/talk')).toBe('ws://h/v1/talk/talk');
  });
});
