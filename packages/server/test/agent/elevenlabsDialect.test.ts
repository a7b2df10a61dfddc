/**
 * The local agent's ElevenLabs Agents dialect on the wire, with a plain `ws` client: the
 * handshake (subprotocol, credentials, formats, the metadata first), malformed client messages
 * (each answered with an `error` event, the socket left open), text input, pings and the pong
 * timeout. The SDK's view of the same protocol is packages/server/test/sdk/elevenlabsSdk.test.ts.
 */
import { bytesToPcm16, encodeBase64, floatToPcm16, mulawEncode } from '@voicewire/core';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat } from '../../../../testing/audio.ts';
import { connect, type TestClient } from './client.ts';
import { sendInRealTime, silence } from './input.ts';

const KEY = 'xi-local-dialect-test';
const GREETING = 'Hello there.';

let open: LocalAgent;
let keyed: LocalAgent;
const log: string[] = [];

beforeAll(async () => {
  open = await startLocalAgent({ allowAnonymous: true, greeting: GREETING, log: (line) => log.push(line) });
  keyed = await startLocalAgent({ apiKeys: [KEY, { key: 'xi-only-a', agentIds: ['agent-a'] }], log: false });
});
afterAll(async () => {
  await open.close();
  await keyed.close();
});

function conversationUrl(agent: LocalAgent, query: string): string {
  return `${agent.origin}/v1/convai/conversation?${query}`;
}

/** Open, send the SDK's first message, and wait for the metadata. */
async function start(
  query = 'agent_id=agent-a',
  overrides: Record<string, unknown> = {},
): Promise<TestClient> {
  const client = await connect(conversationUrl(open, query), { protocols: ['convai'] });
  client.send({ type: 'conversation_initiation_client_data', conversation_config_override: overrides });
  await client.waitFor('conversation_initiation_metadata');
  return client;
}

async function nextError(client: TestClient, from: number): Promise<Record<string, unknown>> {
  const { message } = await client.waitFor('error', from);
  expect(message).toEqual({
    type: 'error',
    error_event: { code: expect.any(Number), message: expect.any(String), error_type: expect.any(String) },
  });
  return message.error_event as Record<string, unknown>;
}

describe('ElevenLabs Agents: opening', () => {
  test('"convai" is echoed; the metadata is the first message, in the default formats; first_message is the greeting', async () => {
    const client = await connect(conversationUrl(open, 'agent_id=agent-a'), {
      protocols: ['convai', 'bearer.anything'],
    });
    try {
      expect(client.ws.protocol).toBe('convai');
      client.send({
        type: 'conversation_initiation_client_data',
        conversation_config_override: {
          agent: { first_message: 'Welcome back.', language: 'en' },
          tts: { voice_id: 'en/en-rp' },
        },
      });
      const { message, index } = await client.waitFor('conversation_initiation_metadata');
      expect(index).toBe(0);
      expect(message.conversation_initiation_metadata_event).toEqual({
        conversation_id: expect.stringMatching(/^conv_/),
        agent_output_audio_format: 'pcm_16000',
        user_input_audio_format: 'pcm_16000',
      });
      const response = await client.waitFor('agent_response');
      expect(response.message.agent_response_event).toEqual({ agent_response: 'Welcome back.', event_id: 1 });
      const audio = await client.waitFor('audio', response.index);
      expect(audio.message.audio_event).toEqual({ audio_base_64: expect.any(String), event_id: 1 });
    } finally {
      await client.close();
    }
  });

  test('a client that sends no initiation data is served with the agent settings after a short wait', async () => {
    const client = await connect(conversationUrl(open, 'agent_id=agent-a'), { protocols: ['convai'] });
    try {
      await client.waitFor('conversation_initiation_metadata');
      const response = await client.waitFor('agent_response');
      expect((response.message.agent_response_event as { agent_response: string }).agent_response).toBe(
        GREETING,
      );
    } finally {
      await client.close();
    }
  });

  test.each([
    ['no credential', 'agent_id=agent-a', {}, /Authentication required/],
    ['an unknown key', 'agent_id=agent-a', { 'xi-api-key': 'xi-nope' }, /Invalid API key/],
    [
      'a key for another agent',
      'agent_id=agent-b',
      { 'xi-api-key': 'xi-only-a' },
      /does not open agent "agent-b"/,
    ],
    [
      'a made-up signature',
      'agent_id=agent-a&conversation_signature=forged',
      {},
      /Invalid API key or signature/,
    ],
    ['no agent_id', '', { 'xi-api-key': KEY }, /Missing agent_id/],
    // Quoted in the reason, which must still fit a close frame (123 bytes of UTF-8).
    [
      'an agent id of 60 euro signs',
      `agent_id=${encodeURIComponent('€'.repeat(60))}`,
      { 'xi-api-key': KEY },
      /^Agent "€+/,
    ],
    [
      'a bad format',
      `agent_id=agent-a&agent_output_audio_format=mp3_44100`,
      { 'xi-api-key': KEY },
      /audio formats/,
    ],
  ])('%s: closed with 1008 and a reason, no message', async (_name, query, headers, reason) => {
    const client = await connect(conversationUrl(keyed, query), { protocols: ['convai'], headers });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(reason);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(client.raw).toEqual([]);
  });

  test('the xi-api-key header opens a private agent; a signed URL is good for its agent only', async () => {
    const byKey = await connect(conversationUrl(keyed, 'agent_id=agent-a'), {
      protocols: ['convai'],
      headers: { 'xi-api-key': KEY },
    });
    await byKey.waitFor('conversation_initiation_metadata');
    await byKey.close();
    const http = keyed.origin.replace('ws://', 'http://');
    const answer = await fetch(
      `${http}/v1/convai/conversation/get-signed-url?agent_id=agent-a&hangupAfterTurns=3`,
      {
        headers: { 'xi-api-key': KEY },
      },
    );
    const signed = new URL(((await answer.json()) as { signed_url: string }).signed_url);
    expect(signed.searchParams.get('hangupAfterTurns')).toBe('3');
    const good = await connect(signed.toString(), { protocols: ['convai'] });
    await good.waitFor('conversation_initiation_metadata');
    await good.close();
    signed.searchParams.set('agent_id', 'agent-b');
    const other = await connect(signed.toString(), { protocols: ['convai'] });
    expect((await other.closed).reason).toMatch(/does not open agent "agent-b"/);
    // The SDK's `authorization` option: a bearer.<token> subprotocol.
    const token = new URL(
      (
        (await (
          await fetch(`${http}/v1/convai/conversation/get-signed-url?agent_id=agent-a`, {
            headers: { 'xi-api-key': KEY },
          })
        ).json()) as { signed_url: string }
      ).signed_url,
    ).searchParams.get('conversation_signature');
    const bearer = await connect(conversationUrl(keyed, 'agent_id=agent-a'), {
      protocols: ['convai', `bearer.${token}`],
    });
    expect(bearer.ws.protocol).toBe('convai');
    await bearer.waitFor('conversation_initiation_metadata');
    await bearer.close();
  });
});

describe('ElevenLabs Agents: the conversation', () => {
  test('μ-law in at 8 kHz and PCM out at 24 kHz, as the query asked: a spoken turn, its transcript and the reply', async () => {
    const client = await start(
      'agent_id=agent-a&user_input_audio_format=ulaw_8000&agent_output_audio_format=pcm_24000',
      {
        agent: { first_message: '' },
      },
    );
    try {
      expect(client.messages[0]!.conversation_initiation_metadata_event).toMatchObject({
        user_input_audio_format: 'ulaw_8000',
        agent_output_audio_format: 'pcm_24000',
      });
      const speech = await synthesizeSpeech('Testing one two three.', { sampleRate: 8000 });
      const ulaw = mulawEncode(floatToPcm16(concat(speech, silence(1.2, 8000))));
      const payloads: string[] = [];
      for (let i = 0; i < ulaw.length; i += 200) payloads.push(encodeBase64(ulaw.subarray(i, i + 200)));
      sendInRealTime(client, payloads, 25, (chunk) => ({ user_audio_chunk: chunk }));
      const transcript = await client.waitFor('user_transcript');
      expect(
        (transcript.message.user_transcription_event as { user_transcript: string }).user_transcript,
      ).toMatch(/^\(\d\.\d s of speech\)$/);
      const reply = await client.waitFor('agent_response', transcript.index);
      const eventId = (reply.message.agent_response_event as { event_id: number }).event_id;
      expect(eventId).toBeGreaterThan(
        (transcript.message.user_transcription_event as { event_id: number }).event_id,
      );
      // The reply's audio: PCM16 at 24 kHz, the sentence then the speech played back.
      await expect
        .poll(() => audioSeconds(client, eventId, 24_000), { timeout: 15_000 })
        .toBeGreaterThan(speech.length / 8000 + 1);
    } finally {
      await client.close();
    }
  });

  test('user_message is answered in speech; contextual_update, user_activity and feedback are taken quietly', async () => {
    const client = await start('agent_id=agent-a', { agent: { first_message: '' } });
    try {
      client.send({ type: 'user_activity' });
      client.send({ type: 'contextual_update', text: 'The user is on the pricing page.' });
      client.send({ type: 'feedback', score: 'like', event_id: 1 });
      client.send({ type: 'user_message', text: 'hi there' });
      const reply = await client.waitFor('agent_response');
      expect((reply.message.agent_response_event as { agent_response: string }).agent_response).toBe(
        'You wrote: hi there',
      );
      expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('malformed messages get an error event and the conversation goes on', async () => {
    const client = await start('agent_id=agent-a', { agent: { first_message: '' } });
    try {
      const cases: (string | Buffer)[] = [
        'not json',
        '[1,2]',
        '{"no_type":true}',
        '{"user_audio_chunk":12}',
        '{"user_audio_chunk":"@@ not base64 @@"}',
        // Three bytes of PCM: not whole 16-bit samples.
        '{"user_audio_chunk":"AAAA"}',
        '{"type":"user_message","text":5}',
        '{"type":"conversation_initiation_client_data"}',
        Buffer.from([1, 2, 3]),
      ];
      for (const frame of cases) {
        const from = client.messages.length;
        if (typeof frame === 'string') client.ws.send(frame);
        else client.ws.send(frame, { binary: true });
        const error = await nextError(client, from);
        expect(error, String(frame)).toMatchObject({ code: 1008, error_type: 'invalid_message' });
      }
      // An unknown type is ignored (logged once), with no error.
      const from = client.messages.length;
      client.send({ type: 'from_the_future', data: 1 });
      client.send({ type: 'user_message', text: 'still here?' });
      const reply = await client.waitFor('agent_response', from);
      expect((reply.message.agent_response_event as { agent_response: string }).agent_response).toBe(
        'You wrote: still here?',
      );
      expect(client.messages.slice(from).filter((m) => m.type === 'error')).toEqual([]);
      await expect.poll(() => log.some((line) => line.includes('unknown type "from_the_future"'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('ElevenLabs Agents: faults and the limit', () => {
  test('?fault=error:4500:200: an error_event with the close code, then close 1011; ?fault=drop:200: 1006', async () => {
    const failing = await start('agent_id=agent-a&fault=error:4500:200', { agent: { first_message: '' } });
    const { message } = await failing.waitFor('error');
    expect(message.error_event).toMatchObject({ code: 1011, error_type: 'unknown', details: { code: 4500 } });
    expect((await failing.closed).code).toBe(1011);
    const dropped = await start('agent_id=agent-a&fault=drop:200', { agent: { first_message: '' } });
    expect((await dropped.closed).code).toBe(1006);
  });

  test('at maxConnections the next connection is closed with 1013', async () => {
    const small = await startLocalAgent({
      allowAnonymous: true,
      greeting: '',
      maxConnections: 1,
      log: false,
    });
    try {
      const first = await connect(conversationUrl(small, 'agent_id=a'), { protocols: ['convai'] });
      first.send({ type: 'conversation_initiation_client_data' });
      await first.waitFor('conversation_initiation_metadata');
      const second = await connect(conversationUrl(small, 'agent_id=a'), { protocols: ['convai'] });
      const closed = await second.closed;
      expect(closed.code).toBe(1013);
      expect(closed.reason).toMatch(/allows 1/);
      await first.close();
    } finally {
      await small.close();
    }
  });
});

describe('ElevenLabs Agents: hanging up', () => {
  test('after the last reply and the goodbye: end_call, then a 1000 close from the agent if the client does not close', async () => {
    const client = await start('agent_id=agent-a&hangupAfterTurns=1', { agent: { first_message: '' } });
    client.send({ type: 'user_message', text: 'bye' });
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    const responses = client.messages
      .filter((m) => m.type === 'agent_response')
      .map((m) => (m.agent_response_event as { agent_response: string }).agent_response);
    expect(responses).toEqual(['You wrote: bye', 'That is all for now. Goodbye!']);
    const last = client.messages.filter((m) => m.type !== 'ping').at(-1)!;
    expect(last).toMatchObject({
      type: 'agent_tool_response',
      agent_tool_response: { tool_name: 'end_call', is_error: false },
    });
  });
});

describe('ElevenLabs Agents: pings', () => {
  test('pings every interval, ping_ms from the pongs; a client that stops answering is dropped with 1008', async () => {
    const quick = await startLocalAgent({
      allowAnonymous: true,
      greeting: '',
      log: false,
      elevenlabs: { pingIntervalMs: 100 },
    });
    try {
      const client = await connect(conversationUrl(quick, 'agent_id=pinged'), { protocols: ['convai'] });
      client.send({ type: 'conversation_initiation_client_data' });
      // Answer the first three pings, then stop.
      let answered = 0;
      client.ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; ping_event?: { event_id: number } };
        if (message.type === 'ping' && answered < 3) {
          answered++;
          client.send({ type: 'pong', event_id: message.ping_event!.event_id });
        }
      });
      const closed = await client.closed;
      expect(closed).toEqual({ code: 1008, reason: 'no pong: the client stopped answering pings' });
      const pings = client.messages
        .filter((m) => m.type === 'ping')
        .map((m) => m.ping_event as { event_id: number; ping_ms: number | null });
      expect(pings[0]).toEqual({ event_id: 1, ping_ms: null });
      expect(pings[3]!.ping_ms).toEqual(expect.any(Number));
      // 10 unanswered pings and 15 intervals without a pong.
      expect(pings.length).toBeGreaterThanOrEqual(13);
    } finally {
      await quick.close();
    }
  });
});

/** Seconds of PCM16 audio the client got for response `eventId`. */
function audioSeconds(client: TestClient, eventId: number, rate: number): number {
  let bytes = 0;
  for (const m of client.messages) {
    const event = m.audio_event as { audio_base_64: string; event_id: number } | undefined;
    if (m.type === 'audio' && event?.event_id === eventId) {
      bytes += bytesToPcm16(new Uint8Array(Buffer.from(event.audio_base_64, 'base64'))).length * 2;
    }
  }
  return bytes / 2 / rate;
}
