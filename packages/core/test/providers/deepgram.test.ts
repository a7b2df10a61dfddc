/**
 * The conversation with `deepgramAgent()` against a real WebSocket server on 127.0.0.1 playing
 * Deepgram's Voice Agent side (docs/providers.md). What the client sends is compared with what
 * Deepgram's own SDK (`@deepgram/sdk`) sends on the same server; the server's messages are typed
 * with the SDK's types (every required field present). The audio engine is faked (Node has no
 * microphone): what goes on the wire is real.
 */
import { type agent, DeepgramClient, DeepgramEnvironment } from '@deepgram/sdk';
import { deepgramAgent } from '@voicewire/core/deepgram';
import { describe, expect, it } from 'vitest';
import { type Received, until, useVendorServer, type VendorServer } from './vendorServer.ts';

const PATH = '/v1/agent/converse';
const AGENT = {
  listen: { provider: { type: 'deepgram', version: 'v1', model: 'nova-3' } },
  think: { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt: 'Be brief.' },
  speak: { provider: { type: 'deepgram', model: 'aura-2-thalia-en' } },
  greeting: 'Hello!',
} satisfies agent.AgentV1Settings.Agent;

let vendor: VendorServer;
const { call } = useVendorServer({
  path: PATH,
  apiKey: 'dg-key',
  provider: () => deepgramAgent(AGENT),
  onServer: (server) => {
    vendor = server;
  },
});

const welcome = { type: 'Welcome', request_id: 'req-1' } satisfies agent.AgentV1Welcome;
const applied = { type: 'SettingsApplied' } satisfies agent.AgentV1SettingsApplied;
const started = {
  type: 'AgentStartedSpeaking',
  total_latency: 0.5,
  tts_latency: 0.2,
  ttt_latency: 0.3,
} satisfies agent.AgentV1AgentStartedSpeaking;
const audioDone = { type: 'AgentAudioDone' } satisfies agent.AgentV1AgentAudioDone;
const userStarted = { type: 'UserStartedSpeaking' } satisfies agent.AgentV1UserStartedSpeaking;
const text = (role: 'user' | 'assistant', content: string) =>
  ({ type: 'ConversationText', role, content }) satisfies agent.AgentV1ConversationText;

/** The server's side of the opening: `Welcome` at once, `SettingsApplied` once `Settings` arrived. */
async function open(conversation: ReturnType<typeof call>['conversation'], socket = 1) {
  const starting = conversation.start();
  await vendor.connections(socket);
  vendor.send(welcome);
  await until(() => vendor.messages('Settings').length === 1, 'the settings');
  vendor.send(applied);
  await starting;
}

/** 16-bit PCM at 24 kHz, the agent's voice in the default output format. */
const pcm16 = (ms: number, seed = 1) => new Uint8Array(48 * ms).map((_, i) => (i * 13 + seed) & 0xff);
const micFrame = (seed: number) => new Uint8Array(640).map((_, i) => (i * 7 + seed) & 0xff);
const binaries = (frames: Received[]) => frames.flatMap((f) => ('binary' in f ? [f.binary] : []));

describe('deepgramAgent', () => {
  it("sends what Deepgram's SDK sends: Settings, binary audio, text, the end of a held turn, KeepAlive", async () => {
    const client = new DeepgramClient({
      apiKey: 'dg-key',
      environment: { ...DeepgramEnvironment.Production, agent: vendor.origin },
    });
    const socket = await client.agent.v1.connect({ reconnectAttempts: 0 });
    socket.connect();
    await socket.waitForOpen();
    const settings: agent.AgentV1Settings = {
      type: 'Settings',
      audio: {
        input: { encoding: 'linear16', sample_rate: 16000 },
        output: { encoding: 'linear16', sample_rate: 24000, container: 'none' },
      },
      agent: AGENT,
    };
    socket.sendSettings(settings);
    socket.sendMedia(micFrame(1));
    socket.sendInjectUserMessage({ type: 'InjectUserMessage', content: 'Spell it.' });
    socket.sendForceEndTurn({ type: 'ForceEndTurn' });
    socket.sendKeepAlive({ type: 'KeepAlive' });
    await until(() => vendor.received.length === 5, "the SDK's frames");
    const sdk = { handshake: vendor.handshakes[0]!, frames: vendor.received.slice() };
    socket.close();

    const { conversation, audio } = call(
      { turnTaking: 'pushToTalk' },
      deepgramAgent({ ...AGENT, keepAliveMs: 1000 }),
    );
    await open(conversation, 2);
    conversation.pressToTalk();
    audio.capture!.emitFrame(micFrame(1));
    conversation.sendCustomInput('Spell it.');
    conversation.releaseToTalk();
    audio.capture!.emitFrames(10);
    await until(() => vendor.messages('KeepAlive').length === 1, 'a keepalive');
    expect(vendor.handshakes[1]!.path).toBe(sdk.handshake.path);
    expect(vendor.handshakes[1]!.path).toBe(PATH);
    // Our frames in the SDK's order, the keepalive included (nothing else in between).
    expect(vendor.received.slice(0, 5)).toEqual(sdk.frames);
  });

  it('opens with the key as the subprotocols token, <key>; Settings first; SettingsApplied connects', async () => {
    const { conversation } = call({ url: `${vendor.origin}${PATH}/` });
    const starting = conversation.start();
    await vendor.connections(1);
    // Settings goes out as the socket opens, before the server's Welcome.
    await until(() => vendor.messages('Settings').length === 1, 'the settings');
    expect(vendor.handshakes[0]!.path).toBe(PATH);
    expect(vendor.handshakes[0]!.protocols).toEqual(['token', 'dg-key']);
    expect(vendor.handshakes[0]!.query.toString()).toBe('');
    vendor.send(welcome);
    vendor.send(applied);
    await starting;
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', conversationId: 'req-1' });
  });

  it('a Deepgram grant (a JWT) from getToken is the bearer subprotocol; a relay token goes in the query', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const granted = call({ apiKey: undefined, getToken: () => jwt });
    await open(granted.conversation);
    expect(vendor.handshakes[0]!.protocols).toEqual(['bearer', jwt]);
    await granted.conversation.stop();
    const relayed = call({ apiKey: undefined, token: 'eyJ2IjoxfQ.c2ln' });
    await open(relayed.conversation, 2);
    await relayed.conversation.stop();
    expect(vendor.handshakes[1]!.protocols).toEqual([]);
    expect([...vendor.handshakes[1]!.query]).toEqual([['token', 'eyJ2IjoxfQ.c2ln']]);
    // A query given in the URL is kept.
    const kept = call({ url: `${vendor.origin}${PATH}?fault=drop:5000` });
    await open(kept.conversation, 3);
    expect(vendor.handshakes[2]!.path).toBe(PATH);
    expect([...vendor.handshakes[2]!.query]).toEqual([['fault', 'drop:5000']]);
  });

  it('streams the microphone as binary 16 kHz PCM16 frames once the settings are applied; μ-law on request', async () => {
    const { conversation, audio } = call();
    const starting = conversation.start();
    await vendor.connections(1);
    await until(() => audio.capture !== undefined, 'the capture');
    audio.capture!.emitFrames(2);
    await until(() => vendor.received.length === 1, 'the settings');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(binaries(vendor.received)).toHaveLength(0);
    vendor.send(applied);
    await starting;
    audio.capture!.emitFrame(micFrame(3));
    audio.capture!.emitFrame(micFrame(4));
    await until(() => binaries(vendor.received).length === 4, 'the frames');
    const frames = binaries(vendor.received);
    expect(frames.map((f) => f.length)).toEqual([640, 640, 640, 640]);
    expect(frames[2]).toEqual(micFrame(3));
    expect(frames[3]).toEqual(micFrame(4));
    await conversation.stop();

    const mulaw = call({ input: { encoding: 'mulaw' }, output: { format: 'mulaw' } });
    await open(mulaw.conversation, 2);
    expect(vendor.messages('Settings')[0]!.audio).toEqual({
      input: { encoding: 'mulaw', sample_rate: 8000 },
      output: { encoding: 'mulaw', sample_rate: 8000, container: 'none' },
    });
    expect(mulaw.audio.capture).toMatchObject({ encoding: 'mulaw', sampleRate: 8000 });
    await until(() => mulaw.audio.player !== undefined, 'the player');
    expect(mulaw.audio.player!.options).toMatchObject({ format: 'mulaw', sampleRate: 8000 });
  });

  it("plays the agent's binary audio as 24 kHz PCM16 streams and writes the ConversationText turns", async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(text('assistant', 'Hello!'));
    vendor.send(started);
    vendor.send(pcm16(40, 1));
    vendor.send(pcm16(40, 2));
    vendor.send(audioDone);
    await until(() => audio.player?.calls.includes('endStream') === true, 'the end of the greeting');
    expect(audio.player!.options).toMatchObject({ format: 'pcm16', sampleRate: 24000 });
    expect(audio.player!.enqueued).toEqual([pcm16(40, 1), pcm16(40, 2)]);
    // The greeting played out before the user spoke.
    audio.player!.emitStarted();
    audio.player!.emitDrained();
    vendor.send(userStarted);
    vendor.send(text('user', 'What time is it?'));
    vendor.send(text('assistant', 'It is noon.'));
    vendor.send(started);
    vendor.send(pcm16(20));
    vendor.send(text('assistant', 'Anything else?'));
    vendor.send(audioDone);
    // Another reply with no user turn in between is a turn of its own.
    vendor.send(text('assistant', 'Still there?'));
    await until(() => conversation.store.getState().transcript.length === 4, 'four turns');
    expect(conversation.store.getState().transcript.map((t) => [t.role, t.text])).toEqual([
      ['agent', 'Hello!'],
      ['user', 'What time is it?'],
      ['agent', 'It is noon. Anything else?'],
      ['agent', 'Still there?'],
    ]);
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(2);
  });

  it('UserStartedSpeaking over the agent silences it, cuts the transcript, and drops the rest of the reply', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(text('assistant', 'One two three four five six seven eight.'));
    vendor.send(started);
    vendor.send(pcm16(100));
    await until(() => audio.player?.enqueued.length === 1, 'the audio');
    audio.player!.emitStarted();
    audio.player!.setPlayedMs(500);
    audio.player!.setStats({ bufferedMs: 500 });
    vendor.send(userStarted);
    await until(() => audio.player!.calls.includes('interrupt'), 'the interrupt');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    expect(conversation.store.getState().transcript[0]).toMatchObject({
      text: 'One two three four',
      interrupted: true,
    });
    // Audio of the cut reply still on its way: never played.
    vendor.send(pcm16(100, 5));
    vendor.send(text('user', 'Stop.'));
    await until(() => conversation.store.getState().mode === 'thinking', 'the user to finish');
    const streams = audio.player!.calls.filter((c) => c === 'newStream').length;
    vendor.send(started);
    vendor.send(pcm16(20, 6));
    await until(() => audio.player!.enqueued.length === 2, 'the next reply');
    expect(audio.player!.enqueued[1]).toEqual(pcm16(20, 6));
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(streams + 1);
  });

  it('push-to-talk: only the held audio, then ForceEndTurn, no run of silence', async () => {
    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation);
    audio.capture!.emitFrames(5);
    conversation.pressToTalk();
    audio.capture!.emitFrames(4);
    conversation.releaseToTalk();
    audio.capture!.emitFrames(10);
    await until(() => vendor.messages('ForceEndTurn').length === 1, 'the end of the turn');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(binaries(vendor.received)).toHaveLength(4);
    const last = vendor.received[vendor.received.length - 1]!;
    expect('json' in last && last.json?.type).toBe('ForceEndTurn');
  });

  it('text input is InjectUserMessage; a refusal is reported', async () => {
    const errors: unknown[] = [];
    const { conversation } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    conversation.sendCustomInput('Spell it.');
    await until(() => vendor.messages('InjectUserMessage').length === 1, 'the message');
    expect(vendor.messages('InjectUserMessage')[0]).toEqual({
      type: 'InjectUserMessage',
      content: 'Spell it.',
    });
    vendor.send({
      type: 'InjectionRefused',
      message: 'The agent is speaking.',
    } satisfies agent.AgentV1InjectionRefused);
    await until(() => errors.length === 1, 'the refusal');
    expect(errors[0]).toMatchObject({ kind: 'server-error', fatal: false });
    expect((errors[0] as Error).message).toMatch(/The agent is speaking/);
  });

  it('sends KeepAlive on schedule once connected', async () => {
    const { conversation } = call({}, deepgramAgent({ ...AGENT, keepAliveMs: 30 }));
    const starting = conversation.start();
    await vendor.connections(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(vendor.messages('KeepAlive')).toHaveLength(0);
    vendor.send(applied);
    await starting;
    const at = Date.now();
    await until(() => vendor.messages('KeepAlive').length >= 3, 'three keepalives');
    // Three periods at least: not sent all at once.
    expect(Date.now() - at).toBeGreaterThanOrEqual(80);
    expect(vendor.messages('KeepAlive')[0]).toEqual({ type: 'KeepAlive' });
  });

  it('Error and Warning are reported and the call goes on; malformed frames never throw', async () => {
    const errors: unknown[] = [];
    const { conversation, audio } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send({
      type: 'Warning',
      description: 'Slow think provider.',
      code: 'SLOW_THINK_REQUEST',
    } satisfies agent.AgentV1Warning);
    vendor.send({
      type: 'Error',
      description: 'The LLM failed.',
      code: 'FAILED_TO_THINK',
    } satisfies agent.AgentV1Error);
    vendor.send('{');
    vendor.send('{"no":"type"}');
    vendor.send({ type: 'ConversationText', role: 'assistant', content: 42 });
    await until(() => errors.length === 4, 'four errors');
    expect(errors.slice(0, 2)).toMatchObject([
      {
        kind: 'server-error',
        fatal: false,
        message: 'Deepgram warning: Slow think provider. (SLOW_THINK_REQUEST)',
      },
      { kind: 'server-error', fatal: false, message: 'Deepgram error: The LLM failed. (FAILED_TO_THINK)' },
    ]);
    expect(errors.slice(2).every((e) => (e as { kind: string }).kind === 'protocol')).toBe(true);
    expect(conversation.store.getState().status).toBe('connected');
    vendor.send(pcm16(20));
    await until(() => audio.player?.enqueued.length === 1, 'audio after the junk');
  });

  it('close 1000 ends as the agent; a drop ends it saying it cannot resume; a refusal says why', async () => {
    const disconnects: unknown[] = [];
    const ended = call({ onDisconnect: (r) => disconnects.push(r) });
    await open(ended.conversation);
    vendor.close(1000);
    await until(() => ended.conversation.store.getState().status === 'ended', 'the end');
    expect(ended.conversation.store.getState().error).toBeNull();
    expect(disconnects).toEqual([{ by: 'agent', closeCode: 1000 }]);

    const dropped = call({ reconnect: { initialDelayMs: 1 } });
    await open(dropped.conversation, 2);
    vendor.drop();
    await until(() => dropped.conversation.store.getState().status === 'ended', 'the end');
    expect(dropped.conversation.store.getState().error?.message).toMatch(/cannot be resumed/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.handshakes).toHaveLength(2);

    const refused = call();
    const starting = refused.conversation.start();
    await vendor.connections(3);
    vendor.send({ type: 'Error', description: 'Invalid settings.', code: 'INVALID_SETTINGS' });
    vendor.close(1008);
    await starting;
    expect(refused.conversation.store.getState()).toMatchObject({ status: 'error' });
    expect(refused.conversation.store.getState().error?.message).toMatch(/Invalid settings/);
  });
});
