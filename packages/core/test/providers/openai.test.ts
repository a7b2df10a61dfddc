/**
 * The conversation with `openaiRealtime()` against a real WebSocket server on 127.0.0.1 playing
 * OpenAI's side, event by event as the Realtime API sends them (docs/providers.md). The audio
 * engine is faked (Node has no microphone): what goes on the wire is real.
 */
import { decodeBase64, encodeBase64 } from '@voicewire/core';
import { openaiRealtime } from '@voicewire/core/openai';
import { describe, expect, it } from 'vitest';
import { until, useVendorServer, type VendorServer } from './vendorServer.ts';

let vendor: VendorServer;
const { call } = useVendorServer({
  path: '/v1/realtime',
  apiKey: 'sk-test',
  provider: () => openaiRealtime({ instructions: 'Be brief.', voice: 'marin' }),
  onServer: (server) => {
    vendor = server;
  },
});

/** The server's side of the opening: `session.created`, then `session.updated` once asked. */
async function open(conversation: ReturnType<typeof call>['conversation']) {
  const started = conversation.start();
  await vendor.connections(1);
  vendor.send({ type: 'session.created', event_id: 'e1', session: { id: 'sess_1', type: 'realtime' } });
  await until(() => vendor.messages('session.update').length === 1, 'session.update');
  vendor.send({ type: 'session.updated', event_id: 'e2', session: { id: 'sess_1', type: 'realtime' } });
  await started;
}

/** 24 kHz PCM16 of a tone: what OpenAI sends in `response.output_audio.delta`. */
function pcm16(ms: number): Uint8Array {
  const samples = Math.round((24_000 * ms) / 1000);
  const bytes = new Uint8Array(samples * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples; i++) view.setInt16(i * 2, Math.round(8000 * Math.sin(i / 5)), true);
  return bytes;
}

function delta(itemId: string, bytes: Uint8Array) {
  return {
    type: 'response.output_audio.delta',
    event_id: `ev_${Math.random()}`,
    response_id: 'resp_1',
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: encodeBase64(bytes),
  };
}

describe('openaiRealtime', () => {
  it('opens /v1/realtime?model= with the key as a subprotocol, configures the session, and greets', async () => {
    const { conversation } = call();
    await open(conversation);
    expect(vendor.handshakes[0]?.path).toBe('/v1/realtime');
    expect(vendor.handshakes[0]?.query.get('model')).toBe('gpt-realtime');
    expect(vendor.handshakes[0]?.protocols).toEqual(['realtime', 'openai-insecure-api-key.sk-test']);
    const update = vendor.messages('session.update')[0] as { session: Record<string, unknown> };
    expect(update.session).toMatchObject({
      type: 'realtime',
      instructions: 'Be brief.',
      output_modalities: ['audio'],
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          turn_detection: { type: 'server_vad' },
          transcription: { model: 'gpt-4o-mini-transcribe' },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
      },
    });
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', conversationId: 'sess_1' });
    // The model speaks first: a response is asked for once the session is set up.
    await until(() => vendor.messages('response.create').length === 1, 'the greeting');
  });

  it('streams the microphone as input_audio_buffer.append of 24 kHz PCM16, and only once set up', async () => {
    const { conversation, audio } = call();
    const started = conversation.start();
    await vendor.connections(1);
    await until(() => audio.capture !== undefined, 'the capture');
    expect(audio.capture?.sampleRate).toBe(24000);
    expect(audio.capture?.encoding).toBe('linear16');
    audio.capture!.emitFrames(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.messages('input_audio_buffer.append')).toHaveLength(0);
    vendor.send({ type: 'session.updated', event_id: 'e2', session: { id: 'sess_1' } });
    await started;
    audio.capture!.emitFrames(2);
    await until(() => vendor.messages('input_audio_buffer.append').length === 5, 'the frames');
    const frame = decodeBase64(vendor.messages('input_audio_buffer.append')[4]!.audio as string);
    // 20 ms at 24 kHz, two bytes a sample.
    expect(frame.length).toBe(960);
  });

  it("plays the agent's audio, builds its transcript from the deltas, and ends the utterance", async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send({ type: 'response.created', event_id: 'e3', response: { id: 'resp_1' } });
    vendor.send(delta('item_1', pcm16(40)));
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e4',
      item_id: 'item_1',
      delta: 'Hello',
    });
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e5',
      item_id: 'item_1',
      delta: ' there.',
    });
    vendor.send(delta('item_1', pcm16(40)));
    vendor.send({ type: 'response.output_audio.done', event_id: 'e6', item_id: 'item_1' });
    vendor.send({
      type: 'response.output_audio_transcript.done',
      event_id: 'e7',
      item_id: 'item_1',
      transcript: 'Hello there.',
    });
    await until(() => audio.player?.calls.includes('endStream') === true, 'the end of the utterance');
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(1);
    expect(audio.player!.enqueued.map((b) => b.length)).toEqual([1920, 1920]);
    expect(audio.player!.options.format).toBe('pcm16');
    expect(audio.player!.options.sampleRate).toBe(24000);
    expect(conversation.store.getState().transcript).toEqual([
      { id: expect.any(String), role: 'agent', text: 'Hello there.', interrupted: false },
    ]);
    // A second reply is a new turn, not more of the first.
    vendor.send(delta('item_2', pcm16(20)));
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e8',
      item_id: 'item_2',
      delta: 'Again.',
    });
    await until(() => conversation.store.getState().transcript.length === 2, 'the second turn');
    expect(conversation.store.getState().transcript[1]).toMatchObject({ role: 'agent', text: 'Again.' });
  });

  it('a barge-in silences the agent, truncates the item at the played position, and drops its rest', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send({ type: 'response.created', event_id: 'e3', response: { id: 'resp_1' } });
    vendor.send(delta('item_1', pcm16(100)));
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e4',
      item_id: 'item_1',
      delta: 'One two three four five six seven eight.',
    });
    await until(() => (audio.player?.enqueued.length ?? 0) === 1, 'the audio');
    audio.player!.emitStarted();
    // The user heard 1.234 s of the item, half of what was queued.
    audio.player!.setPlayedMs(1234);
    audio.player!.setStats({ bufferedMs: 1234 });
    vendor.send({
      type: 'input_audio_buffer.speech_started',
      event_id: 'e5',
      audio_start_ms: 5000,
      item_id: 'u1',
    });
    await until(() => vendor.messages('conversation.item.truncate').length === 1, 'the truncate');
    expect(audio.player!.calls).toContain('interrupt');
    expect(vendor.messages('conversation.item.truncate')[0]).toMatchObject({
      item_id: 'item_1',
      content_index: 0,
      audio_end_ms: 1234,
    });
    // Server VAD cancels the response itself: the client does not.
    expect(vendor.messages('response.cancel')).toHaveLength(0);
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    const turn = conversation.store.getState().transcript[0]!;
    expect(turn.interrupted).toBe(true);
    expect(turn.text).toBe('One two three four');
    // The rest of the cut item, still on its way, is never played nor written.
    const before = audio.player!.enqueued.length;
    vendor.send(delta('item_1', pcm16(40)));
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e6',
      item_id: 'item_1',
      delta: ' nine',
    });
    vendor.send({
      type: 'input_audio_buffer.speech_stopped',
      event_id: 'e7',
      audio_end_ms: 6000,
      item_id: 'u1',
    });
    await until(() => conversation.store.getState().mode === 'thinking', 'the user to finish');
    expect(audio.player!.enqueued.length).toBe(before);
    expect(conversation.store.getState().transcript[0]!.text).toBe('One two three four');
  });

  it('a reply that played out before its output_audio.done is whole: the next speech is no barge-in', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send({ type: 'response.created', event_id: 'e3', response: { id: 'resp_1' } });
    vendor.send(delta('item_1', pcm16(100)));
    vendor.send({
      type: 'response.output_audio_transcript.delta',
      event_id: 'e4',
      item_id: 'item_1',
      delta: 'One two three four.',
    });
    await until(() => (audio.player?.enqueued.length ?? 0) === 1, 'the audio');
    audio.player!.emitStarted();
    audio.player!.setPlayedMs(100);
    // The queue runs dry; the server says the audio is done once it has had time to play.
    audio.player!.emitDrained();
    vendor.send({ type: 'response.output_audio.done', event_id: 'e5', item_id: 'item_1' });
    vendor.send({ type: 'response.done', event_id: 'e6', response: { id: 'resp_1', status: 'completed' } });
    await until(() => audio.player?.calls.includes('endStream') === true, 'the end of the reply');
    vendor.send({
      type: 'input_audio_buffer.speech_started',
      event_id: 'e7',
      audio_start_ms: 900,
      item_id: 'u1',
    });
    await until(() => conversation.store.getState().mode === 'userSpeaking', 'the user speaking');
    vendor.send({
      type: 'input_audio_buffer.speech_stopped',
      event_id: 'e8',
      audio_end_ms: 1900,
      item_id: 'u1',
    });
    await until(() => conversation.store.getState().mode === 'thinking', 'the user to finish');
    expect(conversation.store.getState().transcript[0]).toMatchObject({
      text: 'One two three four.',
      interrupted: false,
    });
    expect(vendor.messages('conversation.item.truncate')).toHaveLength(0);
  });

  it('user transcripts come from the input transcription events', async () => {
    const { conversation } = call();
    await open(conversation);
    vendor.send({
      type: 'conversation.item.input_audio_transcription.delta',
      event_id: 'e1',
      item_id: 'u1',
      content_index: 0,
      delta: 'What is',
    });
    vendor.send({
      type: 'conversation.item.input_audio_transcription.completed',
      event_id: 'e2',
      item_id: 'u1',
      content_index: 0,
      transcript: 'What is the time?',
    });
    await until(
      () => conversation.store.getState().transcript[0]?.text === 'What is the time?',
      'the transcript',
    );
    expect(conversation.store.getState().transcript).toHaveLength(1);
  });

  it('push-to-talk: no server VAD, the mic only while held, commit and response.create on release', async () => {
    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation);
    const update = vendor.messages('session.update')[0] as {
      session: { audio: { input: Record<string, unknown> } };
    };
    expect(update.session.audio.input.turn_detection).toBeNull();
    audio.capture!.emitFrames(5);
    conversation.pressToTalk();
    await until(() => vendor.messages('input_audio_buffer.clear').length === 1, 'the clear');
    audio.capture!.emitFrames(4);
    conversation.releaseToTalk();
    audio.capture!.emitFrames(10);
    await until(() => vendor.messages('input_audio_buffer.commit').length === 1, 'the commit');
    await until(() => vendor.messages('response.create').length === 2, 'the response');
    // Exactly the frames while held: no run of silence after the release (the commit ends the turn).
    expect(vendor.messages('input_audio_buffer.append')).toHaveLength(4);
    const order = vendor.received.flatMap((f) => ('json' in f && f.json ? [f.json.type] : []));
    expect(order.slice(order.indexOf('input_audio_buffer.commit'))).toEqual([
      'input_audio_buffer.commit',
      'response.create',
    ]);
    // Back to voice detection mid-call: the session is updated, no reconnect.
    conversation.setTurnTaking('vad');
    await until(() => vendor.messages('session.update').length === 2, 'the second session.update');
    expect(
      (vendor.messages('session.update')[1] as { session: { audio: { input: Record<string, unknown> } } })
        .session.audio.input.turn_detection,
    ).toMatchObject({ type: 'server_vad' });
    expect(vendor.handshakes).toHaveLength(1);
  });

  it('push-to-talk pressed while the agent speaks: silenced locally, the response cancelled and truncated', async () => {
    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation);
    vendor.send({ type: 'response.created', event_id: 'e3', response: { id: 'resp_1' } });
    vendor.send(delta('item_1', pcm16(100)));
    await until(() => (audio.player?.enqueued.length ?? 0) === 1, 'the audio');
    audio.player!.emitStarted();
    audio.player!.setPlayedMs(300);
    conversation.pressToTalk();
    expect(audio.player!.calls).toContain('interrupt');
    await until(() => vendor.messages('conversation.item.truncate').length === 1, 'the truncate');
    expect(vendor.messages('response.cancel')).toHaveLength(1);
    expect(vendor.messages('conversation.item.truncate')[0]).toMatchObject({
      item_id: 'item_1',
      audio_end_ms: 300,
    });
  });

  it('text input is a user message and a response request', async () => {
    const { conversation } = call();
    await open(conversation);
    conversation.sendCustomInput('Spell it.');
    await until(() => vendor.messages('conversation.item.create').length === 1, 'the item');
    expect(vendor.messages('conversation.item.create')[0]).toMatchObject({
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Spell it.' }] },
    });
    await until(() => vendor.messages('response.create').length === 2, 'the response');
  });

  it('an ephemeral key from getToken is the subprotocol; a relay token goes in the query', async () => {
    const ephemeral = call({ apiKey: undefined, getToken: () => 'ek_abc' });
    await open(ephemeral.conversation);
    expect(vendor.handshakes[0]?.protocols).toEqual(['realtime', 'openai-insecure-api-key.ek_abc']);
    expect(vendor.handshakes[0]?.query.has('token')).toBe(false);
    await ephemeral.conversation.stop();

    const relayed = call({ apiKey: undefined, token: 'relay.token' });
    const started = relayed.conversation.start();
    await vendor.connections(2);
    vendor.send({ type: 'session.updated', event_id: 'e2', session: { id: 'sess_2' } });
    await started;
    expect(vendor.handshakes[1]?.protocols).toEqual(['realtime']);
    expect(vendor.handshakes[1]?.query.get('token')).toBe('relay.token');
    expect(vendor.handshakes[1]?.query.get('model')).toBe('gpt-realtime');
  });

  it('errors are reported and the session goes on; malformed frames never throw', async () => {
    const errors: unknown[] = [];
    const { conversation } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send({
      type: 'error',
      event_id: 'e9',
      error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Bad truncate.', param: null },
    });
    vendor.send('not json');
    vendor.send({ type: 'response.output_audio.delta', item_id: 'x', delta: '!!!' });
    vendor.send(new Uint8Array([1, 2, 3]));
    await until(() => errors.length === 4, 'four errors');
    expect(errors[0]).toMatchObject({ kind: 'invalid-parameters', fatal: false });
    expect(errors.slice(1).every((e) => (e as { kind: string }).kind === 'protocol')).toBe(true);
    expect(conversation.store.getState().status).toBe('connected');
  });

  it('a dropped connection ends the conversation, saying a session cannot be resumed; no reconnect', async () => {
    const disconnects: unknown[] = [];
    const { conversation } = call({
      reconnect: { initialDelayMs: 1 },
      onDisconnect: (r) => disconnects.push(r),
    });
    await open(conversation);
    vendor.drop();
    await until(() => conversation.store.getState().status === 'ended', 'the end');
    expect(conversation.store.getState().error).toMatchObject({ kind: 'network', fatal: true });
    expect(conversation.store.getState().error?.message).toMatch(/cannot be resumed/);
    expect(disconnects).toEqual([expect.objectContaining({ by: 'network', closeCode: 1006 })]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(vendor.handshakes).toHaveLength(1);
  });

  it('a normal close by the server ends it as the agent', async () => {
    const disconnects: unknown[] = [];
    const { conversation } = call({ onDisconnect: (r) => disconnects.push(r) });
    await open(conversation);
    vendor.close(1000, 'done');
    await until(() => conversation.store.getState().status === 'ended', 'the end');
    expect(conversation.store.getState().error).toBeNull();
    expect(disconnects).toEqual([{ by: 'agent', closeCode: 1000 }]);
  });
});
