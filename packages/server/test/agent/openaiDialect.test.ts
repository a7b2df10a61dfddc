/**
 * The local agent's OpenAI Realtime dialect on the wire, with a plain `ws` client: the handshake
 * (subprotocols, keys, model), malformed client events (each answered with an `error` event of
 * the service's shape, the socket left open), formats, push-to-talk, text input, the greeting
 * options and faults. The SDK's view of the same protocol is packages/server/test/sdk/openaiSdk.test.ts.
 */
import { encodeBase64, floatToPcm16, mulawDecode, mulawEncode, pcm16ToBytes } from '@voicewire/core';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat } from '../../../../testing/audio.ts';
import { connect, type TestClient } from './client.ts';
import { sendInRealTime, silence } from './input.ts';

const KEY = 'sk-local-dialect-test';
const GREETING = 'Hello there.';

let agent: LocalAgent;
const log: string[] = [];
let speech24k: Float32Array;

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY, { key: 'sk-only-mini', agentIds: ['gpt-realtime-mini'] }],
    greeting: GREETING,
    maxConnections: 6,
    log: (line) => log.push(line),
  });
  speech24k = await synthesizeSpeech('Testing one two three.', { sampleRate: 24_000 });
});
afterAll(() => agent.close());

function open(query = '', headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) {
  return connect(`${agent.origin}/v1/realtime?model=gpt-realtime${query}`, { headers });
}

/** The next `error` event from `from` on, checked for the service's shape. */
async function nextError(
  client: TestClient,
  from: number,
): Promise<{ error: Record<string, unknown>; index: number }> {
  const { message, index } = await client.waitFor('error', from);
  const error = message.error as Record<string, unknown>;
  expect(message).toEqual({
    type: 'error',
    event_id: expect.stringMatching(/^event_/),
    error: {
      type: expect.any(String),
      code: expect.any(String),
      message: expect.any(String),
      param: error.param === null ? null : expect.any(String),
      event_id: error.event_id === null ? null : expect.any(String),
    },
  });
  return { error, index };
}

describe('OpenAI Realtime: opening', () => {
  test('session.created first; the browser subprotocols authenticate and "realtime" is echoed, never the key', async () => {
    const client = await connect(`${agent.origin}/v1/realtime?model=gpt-realtime`, {
      protocols: ['realtime', `openai-insecure-api-key.${KEY}`, 'openai-agents-sdk.0.20.0'],
    });
    try {
      expect(client.ws.protocol).toBe('realtime');
      const { message, index } = await client.waitFor('session.created');
      expect(index).toBe(0);
      expect(message.session).toMatchObject({
        type: 'realtime',
        object: 'realtime.session',
        id: expect.stringMatching(/^sess_/),
        model: 'gpt-realtime',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24_000 },
            transcription: null,
            turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
          },
          output: { format: { type: 'audio/pcm', rate: 24_000 }, voice: 'marin' },
        },
      });
    } finally {
      await client.close();
    }
  });

  test.each([
    ['no key', {}, 'missing_api_key'],
    ['an unknown key', { authorization: 'Bearer sk-unknown' }, 'invalid_api_key'],
    ['an ek_ key never minted', { authorization: 'Bearer ek_made_up' }, 'invalid_api_key'],
    ['a key for another model', { authorization: 'Bearer sk-only-mini' }, 'model_not_allowed'],
  ])('%s: an error event, then close 1008', async (_name, headers, code) => {
    const client = await open('', headers);
    const { error } = await nextError(client, 0);
    expect(error).toMatchObject({ type: 'invalid_request_error', code });
    expect((await client.closed).code).toBe(1008);
    expect(client.messages.map((m) => m.type)).toEqual(['error']);
  });

  test('no model: missing_model; a model the agent does not serve: model_not_found; a bad query: invalid_value', async () => {
    const noModel = await connect(`${agent.origin}/v1/realtime`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect((await nextError(noModel, 0)).error).toMatchObject({ code: 'missing_model', param: 'model' });
    expect((await noModel.closed).code).toBe(1008);
    const badModel = await connect(`${agent.origin}/v1/realtime?model=no/such`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect((await nextError(badModel, 0)).error).toMatchObject({ code: 'model_not_found' });
    const badFault = await open('&fault=explode');
    expect((await nextError(badFault, 0)).error).toMatchObject({ code: 'invalid_value' });
    expect((await badFault.closed).code).toBe(1008);
  });
});

describe('OpenAI Realtime: malformed client events get an error event and the session goes on', () => {
  test('every kind of bad frame, then a greeting still comes', async () => {
    const client = await open();
    try {
      await client.waitFor('session.created');
      const cases: [string | Buffer, Record<string, unknown>][] = [
        ['not json at all', { code: 'invalid_json' }],
        ['[1,2,3]', { code: 'invalid_type' }],
        ['{"event_id":"evt_a"}', { code: 'missing_required_parameter', param: 'type', event_id: 'evt_a' }],
        [
          '{"type":"no.such.event","event_id":"evt_b"}',
          { code: 'invalid_value', param: 'type', event_id: 'evt_b' },
        ],
        ['{"type":"input_audio_buffer.append","audio":42}', { param: 'audio' }],
        ['{"type":"input_audio_buffer.append","audio":"@@ not base64 @@"}', { param: 'audio' }],
        // Three bytes: not whole 16-bit samples.
        ['{"type":"input_audio_buffer.append","audio":"AAAA"}', { param: 'audio' }],
        [
          '{"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}}',
          { param: 'session.audio.input.format' },
        ],
        [
          '{"type":"session.update","session":{"audio":{"output":{"voice":"nobody"}}}}',
          { param: 'session.audio.output.voice' },
        ],
        [
          '{"type":"session.update","session":{"audio":{"input":{"turn_detection":{"type":"psychic"}}}}}',
          { param: 'session.audio.input.turn_detection' },
        ],
        ['{"type":"session.update","session":"everything"}', { param: 'session' }],
        [
          '{"type":"conversation.item.truncate","item_id":"item_nope","content_index":0,"audio_end_ms":10}',
          { code: 'item_truncate_invalid_item_id' },
        ],
        [
          '{"type":"conversation.item.retrieve","item_id":"item_nope"}',
          { code: 'item_retrieve_invalid_item_id' },
        ],
        [
          '{"type":"conversation.item.delete","item_id":"item_nope"}',
          { code: 'item_delete_invalid_item_id' },
        ],
        ['{"type":"conversation.item.create","item":"text"}', { param: 'item' }],
        [
          '{"type":"conversation.item.create","item":{"type":"message","role":"narrator"}}',
          { param: 'item.role' },
        ],
        [Buffer.from([1, 2, 3]), { code: 'invalid_message' }],
      ];
      for (const [frame, expected] of cases) {
        const from = client.messages.length;
        if (typeof frame === 'string') client.ws.send(frame);
        else client.ws.send(frame, { binary: true });
        const { error } = await nextError(client, from);
        expect(error, String(frame)).toMatchObject(expected);
      }
      // Nothing bad was applied: the session is as it was, and it still answers.
      const updated = client.messages.length;
      client.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be brief.' } });
      const { message } = await client.waitFor('session.updated', updated);
      expect(message.session).toMatchObject({
        instructions: 'Be brief.',
        audio: { input: { format: { type: 'audio/pcm', rate: 24_000 } }, output: { voice: 'marin' } },
      });
      client.send({ type: 'response.create' });
      const created = await client.waitFor('response.created', updated);
      // A second response.create while one is active is refused.
      client.send({ type: 'response.create', event_id: 'evt_again' });
      expect((await nextError(client, created.index)).error).toMatchObject({
        code: 'conversation_already_has_active_response',
        event_id: 'evt_again',
      });
      const transcript = await client.waitFor('response.output_audio_transcript.done', created.index);
      expect(transcript.message.transcript).toBe(GREETING);
      expect(client.ws.readyState).toBe(client.ws.OPEN);
    } finally {
      await client.close();
    }
  });
});

describe('OpenAI Realtime: formats, turns and text', () => {
  test('audio/pcmu both ways: μ-law speech in is a turn; the reply is μ-law at 8 kHz, as long as it says', async () => {
    const client = await open();
    try {
      await client.waitFor('session.created');
      client.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          audio: {
            input: { format: { type: 'audio/pcmu' }, transcription: { model: 'whisper-1' } },
            output: { format: { type: 'audio/pcmu' } },
          },
        },
      });
      const updated = await client.waitFor('session.updated');
      expect(updated.message.session).toMatchObject({
        audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
      });
      const speech8k = await synthesizeSpeech('Testing one two three.', { sampleRate: 8000 });
      const payloads = chunks(mulawEncode(floatToPcm16(concat(speech8k, silence(1.2, 8000)))), 160);
      sendInRealTime(client, payloads, 20, (audio) => ({ type: 'input_audio_buffer.append', audio }));
      const started = await client.waitFor('input_audio_buffer.speech_started');
      const stopped = await client.waitFor('input_audio_buffer.speech_stopped', started.index);
      expect(stopped.message.item_id).toBe(started.message.item_id);
      const completed = await client.waitFor(
        'conversation.item.input_audio_transcription.completed',
        stopped.index,
      );
      expect(completed.message).toMatchObject({ item_id: started.message.item_id, content_index: 0 });
      expect(completed.message.transcript).toMatch(/^\(\d\.\d s of speech\)$/);
      const done = await client.waitFor('response.done', completed.index);
      const deltas = client.messages
        .slice(completed.index, done.index)
        .filter((m) => m.type === 'response.output_audio.delta');
      const bytes = Buffer.concat(deltas.map((m) => Buffer.from(String(m.delta), 'base64')));
      // One byte a sample at 8 kHz: the sentence, a pause, and the speech played back.
      const seconds = bytes.length / 8000;
      expect(seconds).toBeGreaterThan(speech8k.length / 8000 + 1);
      const pcm = mulawDecode(new Uint8Array(bytes));
      expect(Math.max(...Array.from(pcm.subarray(0, 8000), Math.abs))).toBeGreaterThan(3000);
    } finally {
      await client.close();
    }
  });

  test('push-to-talk: turn_detection null, commit and response.create; an empty commit is an error', async () => {
    const client = await open();
    try {
      await client.waitFor('session.created');
      client.send({ type: 'session.update', session: { audio: { input: { turn_detection: null } } } });
      await client.waitFor('session.updated');
      const empty = client.messages.length;
      client.send({ type: 'input_audio_buffer.commit' });
      expect((await nextError(client, empty)).error).toMatchObject({
        code: 'input_audio_buffer_commit_empty',
      });
      client.send({
        type: 'input_audio_buffer.append',
        audio: encodeBase64(pcm16ToBytes(floatToPcm16(speech24k))),
      });
      client.send({ type: 'input_audio_buffer.commit' });
      const committed = await client.waitFor('input_audio_buffer.committed');
      const added = await client.waitFor('conversation.item.added', committed.index);
      expect(added.message.item).toMatchObject({
        id: committed.message.item_id,
        role: 'user',
        content: [{ type: 'input_audio', transcript: null }],
      });
      expect(client.messages.some((m) => m.type === 'input_audio_buffer.speech_started')).toBe(false);
      // No transcription configured: no transcript event; and no response until asked.
      expect(client.messages.some((m) => m.type === 'response.created')).toBe(false);
      client.send({ type: 'response.create' });
      const transcript = await client.waitFor('response.output_audio_transcript.done', added.index);
      expect(transcript.message.transcript).toBe('Here is what I heard.');
      expect(
        client.messages.some((m) => m.type.startsWith('conversation.item.input_audio_transcription')),
      ).toBe(false);
      // input_audio_buffer.clear is answered.
      client.send({ type: 'input_audio_buffer.clear' });
      await client.waitFor('input_audio_buffer.cleared');
    } finally {
      await client.close();
    }
  });

  test('a text item waits for response.create, and is answered in speech', async () => {
    const client = await open();
    try {
      await client.waitFor('session.created');
      client.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello agent' }] },
      });
      const added = await client.waitFor('conversation.item.added');
      expect(added.message.item).toMatchObject({
        role: 'user',
        content: [{ type: 'input_text', text: 'hello agent' }],
      });
      await client.waitFor('conversation.item.done', added.index);
      client.send({ type: 'response.create' });
      const transcript = await client.waitFor('response.output_audio_transcript.done', added.index);
      expect(transcript.message.transcript).toBe('You wrote: hello agent');
      // The item can be read back, and deleted.
      const id = String((added.message.item as { id: string }).id);
      client.send({ type: 'conversation.item.retrieve', item_id: id });
      const retrieved = await client.waitFor('conversation.item.retrieved', transcript.index);
      expect((retrieved.message.item as { id: string }).id).toBe(id);
      client.send({ type: 'conversation.item.delete', item_id: id });
      expect((await client.waitFor('conversation.item.deleted', retrieved.index)).message.item_id).toBe(id);
    } finally {
      await client.close();
    }
  });

  test('?greeting=auto: the agent greets once the first session.update is answered', async () => {
    const client = await open('&greeting=auto');
    try {
      await client.waitFor('session.created');
      client.send({ type: 'session.update', session: { type: 'realtime' } });
      const updated = await client.waitFor('session.updated');
      const transcript = await client.waitFor('response.output_audio_transcript.done', updated.index);
      expect(transcript.message.transcript).toBe(GREETING);
    } finally {
      await client.close();
    }
  });
});

describe('OpenAI Realtime: faults, limits and the log', () => {
  test('?fault=error:4500:200 sends a server_error, then closes 1011', async () => {
    const client = await open('&fault=error:4500:200');
    const { error } = await nextError(client, 0);
    expect(error).toMatchObject({ type: 'server_error', code: '4500' });
    expect((await client.closed).code).toBe(1011);
  });

  test('?fault=garbage interleaves malformed frames the stream survives', async () => {
    const client = await open('&fault=garbage');
    try {
      await client.waitFor('session.created');
      client.send({ type: 'response.create' });
      await client.waitFor('response.done');
      // Garbage frames that are not JSON objects with a type do not reach `messages`.
      expect(client.raw.length).toBeGreaterThan(client.messages.length);
      expect(client.messages.some((m) => m.type === 'voicewire.garbage')).toBe(true);
    } finally {
      await client.close();
    }
  });

  test('at maxConnections the next connection gets session_limit_reached and 1013', async () => {
    const small = await startLocalAgent({ maxConnections: 1, log: false });
    try {
      const first = await connect(`${small.origin}/v1/realtime?model=m`, {
        headers: { authorization: 'Bearer k' },
      });
      await first.waitFor('session.created');
      const second = await connect(`${small.origin}/v1/realtime?model=m`, {
        headers: { authorization: 'Bearer k' },
      });
      expect((await nextError(second, 0)).error).toMatchObject({ code: 'session_limit_reached' });
      expect((await second.closed).code).toBe(1013);
      await first.close();
    } finally {
      await small.close();
    }
  });

  test('one log line per connection, with the formats, and never the key', async () => {
    const client = await open();
    await client.waitFor('session.created');
    await client.close();
    await expect
      .poll(() => log.find((line) => line.includes('/v1/realtime') && line.includes('closed by client 1000')))
      .toBeDefined();
    const line = log.find((l) => l.includes('/v1/realtime') && l.includes('closed by client 1000'))!;
    expect(line).toMatch(
      /agent=gpt-realtime conversation=conv_\S+ .* in=audio\/pcm out=audio\/pcm voice=marin turn_detection=server_vad/,
    );
    expect(log.join('\n')).not.toContain(KEY);
  });
});

function chunks(bytes: Uint8Array, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(encodeBase64(bytes.subarray(i, i + size)));
  return out;
}
