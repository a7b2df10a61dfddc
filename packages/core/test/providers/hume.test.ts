/**
 * The conversation with `humeEvi()` against a real WebSocket server on 127.0.0.1 playing Hume
 * EVI's side (docs/providers.md). What the client sends is compared with what Hume's own SDK
 * (`hume`) sends on the same server, and every server message used here passes the SDK's schema.
 * The audio engine is faked (Node has no microphone): what goes on the wire is real.
 */
import { decodeBase64, encodeBase64 } from '@voicewire/core';
import { humeEvi } from '@voicewire/core/hume';
import { HumeClient, serialization } from 'hume';
import { describe, expect, it } from 'vitest';
import { until, useVendorServer, type VendorServer } from './vendorServer.ts';

const PATH = '/v0/evi/chat';

let vendor: VendorServer;
const { call } = useVendorServer({
  path: PATH,
  apiKey: 'hume-key',
  provider: () => humeEvi({ configId: 'cfg-1', systemPrompt: 'Be brief.', voiceId: 'voice-9' }),
  onServer: (server) => {
    vendor = server;
  },
});

// The server's messages, each with every field Hume's schema requires (checked below).
const metadata = { type: 'chat_metadata', chat_group_id: 'group-1', chat_id: 'chat-1', request_id: 'req-1' };
const assistant = (id: string, content: string) => ({
  type: 'assistant_message',
  id,
  message: { role: 'assistant', content },
  models: {},
  from_text: false,
  is_quick_response: false,
});
const user = (content: string, interim: boolean) => ({
  type: 'user_message',
  message: { role: 'user', content },
  models: {},
  from_text: false,
  interim,
  time: { begin: 0, end: 900 },
});
const audioOut = (id: string, index: number, bytes: Uint8Array) => ({
  type: 'audio_output',
  id,
  index,
  data: encodeBase64(bytes),
});
const assistantEnd = { type: 'assistant_end' };
const interruption = { type: 'user_interruption', time: 1_760_000_000_000 };
const failure = {
  type: 'error',
  code: 'E0710',
  slug: 'chat_resume_failed',
  message: 'The chat group was not found.',
};

/** A whole little WAV file (mono 16-bit PCM at 48 kHz): what each `audio_output` carries. */
function wav(ms: number, seed = 1): Uint8Array {
  const dataBytes = 96 * ms;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(at + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, 48_000, true);
  view.setUint32(28, 96_000, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 44; i < bytes.length; i++) bytes[i] = (i * 11 + seed) & 0xff;
  return bytes;
}

const micFrame = (seed: number) => new Uint8Array(640).map((_, i) => (i * 7 + seed) & 0xff);

async function open(conversation: ReturnType<typeof call>['conversation'], socket = 1) {
  const started = conversation.start();
  await vendor.connections(socket);
  await until(() => vendor.messages('session_settings').length === 1, 'the session settings');
  vendor.send(metadata);
  await started;
}

describe('humeEvi', () => {
  it("the server messages used here pass Hume's SDK schemas", () => {
    const schemas = serialization.empathicVoice;
    const checks: [{ parse: (raw: unknown, opts: object) => { ok: boolean } }, object][] = [
      [schemas.ChatMetadata, metadata],
      [schemas.AssistantMessage, assistant('m-1', 'Hi.')],
      [schemas.UserMessage, user('Hello.', true)],
      [schemas.AudioOutput, audioOut('m-1', 0, wav(10))],
      [schemas.AssistantEnd, assistantEnd],
      [schemas.UserInterruption, interruption],
      [schemas.WebSocketError, failure],
    ];
    for (const [schema, raw] of checks) {
      expect(schema.parse(raw, { unrecognizedObjectKeys: 'fail' }), JSON.stringify(raw)).toMatchObject({
        ok: true,
      });
    }
    // The check can fail: a user_message without `time` is refused.
    const { time: _, ...untimed } = user('Hello.', false);
    expect(schemas.UserMessage.parse(untimed, {})).toMatchObject({ ok: false });
  });

  it("sends what Hume's SDK sends: the URL, session_settings, audio_input and user_input", async () => {
    const client = new HumeClient({ apiKey: 'hume-key', environment: vendor.origin.replace('ws:', 'http:') });
    const socket = client.empathicVoice.chat.connect({ configId: 'cfg-1', reconnectAttempts: 0 });
    await socket.waitForOpen();
    socket.sendSessionSettings({
      audio: { channels: 1, encoding: 'linear16', sampleRate: 16000 },
      systemPrompt: 'Be brief.',
      voiceId: 'voice-9',
    });
    socket.sendAudioInput({ data: encodeBase64(micFrame(1)) });
    socket.sendUserInput('Spell it.');
    await until(() => vendor.received.length === 3, "the SDK's frames");
    const sdk = { handshake: vendor.handshakes[0]!, frames: vendor.json() };
    socket.close();

    const { conversation, audio } = call();
    await open(conversation, 2);
    audio.capture!.emitFrame(micFrame(1));
    conversation.sendCustomInput('Spell it.');
    await until(() => vendor.received.length === 3, 'the frames');
    const ours = vendor.handshakes[1]!;
    expect(ours.path).toBe(sdk.handshake.path);
    expect(ours.path).toBe(PATH);
    // The SDK adds its own tracking parameters (fernSdk…); the rest is the same.
    const sdkQuery = [...sdk.handshake.query].filter(([name]) => !name.startsWith('fernSdk'));
    expect([...ours.query].sort()).toEqual(sdkQuery.sort());
    expect(ours.query.get('api_key')).toBe('hume-key');
    expect(ours.query.get('config_id')).toBe('cfg-1');
    expect(vendor.json()).toEqual(sdk.frames);
    expect(vendor.json()[0]).toEqual({
      type: 'session_settings',
      audio: { channels: 1, encoding: 'linear16', sample_rate: 16000 },
      system_prompt: 'Be brief.',
      voice_id: 'voice-9',
    });
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', conversationId: 'group-1' });
  });

  it('a token from getToken is the access_token; a relay session token goes as token', async () => {
    const granted = call({ apiKey: undefined, getToken: () => 'hume-access-token' });
    await open(granted.conversation);
    expect(Object.fromEntries(vendor.handshakes[0]!.query)).toEqual({
      config_id: 'cfg-1',
      access_token: 'hume-access-token',
    });
    await granted.conversation.stop();
    // A relay session token goes as `token`, at the URL given, whose own query is kept.
    const relayed = call({
      apiKey: undefined,
      token: 'eyJ2IjoxfQ.c2ln',
      url: `${vendor.origin}${PATH}?fault=drop:5000`,
    });
    await open(relayed.conversation, 2);
    expect(vendor.handshakes[1]!.path).toBe(PATH);
    expect([...vendor.handshakes[1]!.query]).toEqual([
      ['fault', 'drop:5000'],
      ['config_id', 'cfg-1'],
      ['token', 'eyJ2IjoxfQ.c2ln'],
    ]);
  });

  it('streams the microphone as audio_input of 16 kHz PCM16 once chat_metadata arrived', async () => {
    const { conversation, audio } = call();
    const started = conversation.start();
    await vendor.connections(1);
    await until(() => audio.capture !== undefined, 'the capture');
    expect(audio.capture).toMatchObject({ encoding: 'linear16', sampleRate: 16000 });
    audio.capture!.emitFrames(2);
    await until(() => vendor.received.length === 1, 'the settings');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.messages('audio_input')).toHaveLength(0);
    vendor.send(metadata);
    await started;
    audio.capture!.emitFrame(micFrame(3));
    await until(() => vendor.messages('audio_input').length === 3, 'the frames');
    const inputs = vendor.messages('audio_input');
    expect(inputs.map((m) => decodeBase64(m.data as string).length)).toEqual([640, 640, 640]);
    expect(decodeBase64(inputs[2]!.data as string)).toEqual(micFrame(3));
    expect(Object.keys(inputs[2]!)).toEqual(['type', 'data']);
  });

  it('plays each reply as one WAV stream at 48 kHz and writes the turns, interim user text replaced', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(assistant('m-1', 'Hello there.'));
    vendor.send(audioOut('m-1', 0, wav(40, 1)));
    vendor.send(assistant('m-2', 'How can I help?'));
    vendor.send(audioOut('m-2', 0, wav(40, 2)));
    vendor.send(assistantEnd);
    await until(() => audio.player?.calls.includes('endStream') === true, 'the end of the reply');
    expect(audio.player!.options).toMatchObject({ format: 'wav', sampleRate: 48000 });
    expect(audio.player!.enqueued).toEqual([wav(40, 1), wav(40, 2)]);
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(1);
    audio.player!.emitStarted();
    audio.player!.emitDrained();
    vendor.send(user("What's", true));
    await until(() => conversation.store.getState().mode === 'userSpeaking', 'the user speaking');
    // A revised guess replaces the last one.
    vendor.send(user('What time', true));
    vendor.send(user('What time is it?', false));
    await until(() => conversation.store.getState().mode === 'thinking', 'the user to finish');
    vendor.send(assistant('m-3', 'Noon.'));
    await until(() => conversation.store.getState().transcript.length === 3, 'three turns');
    expect(conversation.store.getState().transcript.map((t) => [t.role, t.text])).toEqual([
      ['agent', 'Hello there. How can I help?'],
      ['user', 'What time is it?'],
      ['agent', 'Noon.'],
    ]);
  });

  it('user_interruption silences the agent at once, cuts its turn, and drops the rest of that reply', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(assistant('m-1', 'One two three four five six seven eight.'));
    vendor.send(audioOut('m-1', 0, wav(100)));
    await until(() => audio.player?.enqueued.length === 1, 'the audio');
    audio.player!.emitStarted();
    audio.player!.setPlayedMs(50);
    audio.player!.setStats({ bufferedMs: 50 });
    vendor.send(interruption);
    await until(() => audio.player!.calls.includes('interrupt'), 'the interrupt');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    expect(conversation.store.getState().transcript[0]).toMatchObject({
      text: 'One two three four',
      interrupted: true,
    });
    // The rest of the cut reply (its id) never plays nor writes.
    vendor.send(audioOut('m-1', 1, wav(100, 3)));
    vendor.send(assistant('m-1', 'Nine.'));
    vendor.send(user('Stop.', false));
    vendor.send(assistant('m-2', 'Sure.'));
    vendor.send(audioOut('m-2', 0, wav(20, 4)));
    await until(() => audio.player!.enqueued.length === 2, 'the next reply');
    expect(audio.player!.enqueued[1]).toEqual(wav(20, 4));
    expect(conversation.store.getState().transcript.map((t) => t.text)).toEqual([
      'One two three four',
      'Stop.',
      'Sure.',
    ]);
  });

  it('push-to-talk: the microphone while held, then a run of silence, then nothing', async () => {
    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation);
    audio.capture!.emitFrames(5);
    conversation.pressToTalk();
    audio.capture!.emitFrame(micFrame(1));
    audio.capture!.emitFrame(micFrame(2));
    conversation.releaseToTalk();
    audio.capture!.emitFrames(60);
    await until(() => vendor.messages('audio_input').length === 52, 'the held audio and the silence');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = vendor.messages('audio_input').map((m) => decodeBase64(m.data as string));
    expect(sent).toHaveLength(52);
    expect(sent[0]).toEqual(micFrame(1));
    // One second of digital silence (50 frames of 20 ms) lets EVI's voice detection end the turn.
    expect(sent.slice(2).every((frame) => frame.length === 640 && frame.every((b) => b === 0))).toBe(true);
  });

  it('text input is user_input', async () => {
    const { conversation } = call();
    await open(conversation);
    conversation.sendCustomInput('Spell it.');
    await until(() => vendor.messages('user_input').length === 1, 'the text');
    expect(vendor.messages('user_input')[0]).toEqual({ type: 'user_input', text: 'Spell it.' });
  });

  it('a dropped connection resumes the chat group; close 1000 ends it as the agent', async () => {
    const disconnects: unknown[] = [];
    const { conversation, audio } = call({
      reconnect: { initialDelayMs: 1 },
      onDisconnect: (r) => disconnects.push(r),
    });
    await open(conversation);
    vendor.drop();
    await vendor.connections(2);
    expect(vendor.handshakes[1]!.query.get('resumed_chat_group_id')).toBe('group-1');
    expect(vendor.handshakes[1]!.query.get('config_id')).toBe('cfg-1');
    await until(() => vendor.messages('session_settings').length === 1, 'the settings again');
    vendor.send({ ...metadata, chat_id: 'chat-2' });
    await until(() => conversation.store.getState().status === 'connected', 'connected again');
    expect(conversation.store.getState().conversationId).toBe('group-1');
    audio.capture!.emitFrame(micFrame(6));
    await until(() => vendor.messages('audio_input').length === 1, 'audio on the new socket');
    // Hume's internal error resumes too.
    vendor.close(1011, 'Internal error.');
    await vendor.connections(3);
    expect(vendor.handshakes[2]!.query.get('resumed_chat_group_id')).toBe('group-1');
    await until(() => vendor.messages('session_settings').length === 1, 'the settings, a third time');
    vendor.send({ ...metadata, chat_id: 'chat-3' });
    await until(() => conversation.store.getState().status === 'connected', 'connected a third time');
    vendor.close(1000);
    await until(() => conversation.store.getState().status === 'ended', 'the end');
    expect(conversation.store.getState().error).toBeNull();
    expect(disconnects).toEqual([{ by: 'agent', closeCode: 1000 }]);
  });

  it('an error then a close mid-chat: not resumed (reconnect off), the call ends with the server’s error, not a lost connection', async () => {
    const errors: unknown[] = [];
    const { conversation } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send({ type: 'error', code: '1011', slug: 'internal_error', message: 'EVI failed.' });
    vendor.close(1011, 'Internal error.');
    await until(() => conversation.store.getState().status === 'error', 'the end');
    expect(conversation.store.getState().error).toEqual({
      kind: 'server-error',
      message: 'EVI failed. (internal_error)',
      fatal: true,
    });
    // Reported when it came, then as the call's end; no "connection lost" in between.
    expect(errors).toEqual([
      { kind: 'server-error', message: 'EVI failed. (internal_error)', fatal: false },
      { kind: 'server-error', message: 'EVI failed. (internal_error)', fatal: true },
    ]);
    // A close with no error before it: lost, and nothing claims it is being resumed.
    const lost = call();
    await open(lost.conversation, 2);
    vendor.drop();
    await until(() => lost.conversation.store.getState().status === 'error', 'the second end');
    expect(lost.conversation.store.getState().error).toMatchObject({ kind: 'network', fatal: true });
    expect(lost.conversation.store.getState().error?.message).not.toMatch(/resuming/);
  });

  it('a chat refused before chat_metadata fails with the server’s words', async () => {
    const { conversation } = call({ reconnect: { initialDelayMs: 1 } });
    const started = conversation.start();
    await vendor.connections(1);
    vendor.send(failure);
    vendor.close(1008);
    await started;
    expect(conversation.store.getState()).toMatchObject({ status: 'error' });
    expect(conversation.store.getState().error?.message).toMatch(
      /The chat group was not found\. \(chat_resume_failed\)/,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.handshakes).toHaveLength(1);
  });

  it('errors are reported and the chat goes on; malformed frames never throw', async () => {
    const errors: unknown[] = [];
    const { conversation, audio } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send({ ...failure, slug: 'tool_failed', message: 'A tool failed.' });
    vendor.send('nope');
    vendor.send(new Uint8Array([1, 2, 3]));
    vendor.send({ type: 'audio_output', id: 'm-9', index: 0, data: '%%%' });
    vendor.send({ type: 'user_message', message: 'not an object', interim: false });
    vendor.send({ type: 'assistant_message', message: null });
    await until(() => errors.length === 4, 'four errors');
    expect(errors[0]).toMatchObject({
      kind: 'server-error',
      fatal: false,
      message: 'A tool failed. (tool_failed)',
    });
    expect(errors.slice(1).every((e) => (e as { kind: string }).kind === 'protocol')).toBe(true);
    expect(conversation.store.getState().status).toBe('connected');
    vendor.send(audioOut('m-10', 0, wav(20)));
    await until(() => audio.player?.enqueued.length === 1, 'audio after the junk');
  });
});
