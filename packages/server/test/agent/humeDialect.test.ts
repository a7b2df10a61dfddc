/**
 * The local agent's Hume EVI dialect on the wire, with a plain `ws` client, every server message
 * checked against the `hume` SDK's own schema (`SubscribeEvent`, strict: a missing required key
 * fails): credentials, `chat_metadata` first, session settings in the query (both spellings) and
 * as a message, audio in linear16 and in a recorder's container, malformed messages (each an
 * `error`, the socket left open), access tokens, resumption, faults and the limit. The SDK's view
 * of the same protocol is packages/server/test/sdk/humeSdk.test.ts.
 */
import { encodeBase64, floatToPcm16, pcm16ToBytes } from '@voicewire/core';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import * as serialization from 'hume/serialization';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat, decodeWav16, encodeWav16 } from '../../../../testing/audio.ts';
import { silence } from './input.ts';
import { openWire, type WireClient, type WireMessage } from './wireClient.ts';

const KEY = 'hume-dialect-test';
const GREETING = 'Hello there.';

let agent: LocalAgent;
let small: LocalAgent;

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY, { key: 'hume-only-a', agentIds: ['config-a'] }],
    greeting: GREETING,
    log: false,
  });
  small = await startLocalAgent({ apiKeys: [KEY], maxConnections: 1, greeting: '', log: false });
});
afterAll(async () => {
  await agent.close();
  await small.close();
});

const url = (query = `api_key=${KEY}`, target = agent) => `${target.origin}/v0/evi/chat?${query}`;
const isType = (type: string) => (m: WireMessage) => m.type === type;

/** What the SDK's schema says about a message: `[]` when it would take it without a word. */
function schemaProblems(message: WireMessage): string[] {
  const parsed = serialization.empathicVoice.SubscribeEvent.parse(message, {
    unrecognizedObjectKeys: 'passthrough',
  });
  return parsed.ok ? [] : parsed.errors.map((e) => `${e.path.join('.')}: ${e.message}`);
}

function expectValid(client: WireClient): void {
  for (const message of client.messages) expect(schemaProblems(message), JSON.stringify(message)).toEqual([]);
}

/** Open a chat and send settings for linear16 at `rate`; resolves at `chat_metadata`. */
async function start(query?: string, rate = 16_000, target = agent): Promise<WireClient> {
  const client = await openWire(url(query, target));
  await client.waitFor(isType('chat_metadata'));
  if (rate)
    client.send({
      type: 'session_settings',
      audio: { encoding: 'linear16', sample_rate: rate, channels: 1 },
    });
  return client;
}

async function sendSpeech(client: WireClient, frames: string[]): Promise<void> {
  for (const data of frames) {
    client.send({ type: 'audio_input', data });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function speechFrames(rate: number): Promise<{ seconds: number; pcm: Float32Array }> {
  const speech = await synthesizeSpeech('Testing one two three.', { sampleRate: rate });
  return { seconds: speech.length / rate, pcm: concat(speech, silence(1.2, rate)) };
}

describe('Hume EVI: opening', () => {
  test('chat_metadata first; the greeting: assistant_message, WAV chunks at 48 kHz with its id, assistant_end; every message fits the SDK schema', async () => {
    const client = await start();
    try {
      expect(client.messages[0]).toEqual({
        type: 'chat_metadata',
        chat_group_id: expect.any(String),
        chat_id: expect.any(String),
        request_id: expect.any(String),
      });
      await client.waitFor(isType('assistant_end'));
      const said = client.messages.find(isType('assistant_message'))!;
      expect(said).toMatchObject({ message: { role: 'assistant', content: GREETING }, from_text: false });
      const chunks = client.messages.filter(isType('audio_output'));
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      expect(new Set(chunks.map((c) => c.id))).toEqual(new Set([said.id]));
      const wavs = chunks.map((c) => decodeWav16(Buffer.from(String(c.data), 'base64')));
      expect(new Set(wavs.map((w) => w.sampleRate))).toEqual(new Set([48_000]));
      const expected = await synthesizeSpeech(GREETING, { sampleRate: 48_000 });
      expect(wavs.reduce((n, w) => n + w.samples.length, 0)).toBe(expected.length);
      expectValid(client);
    } finally {
      await client.close();
    }
  });

  test.each([
    ['no credential', 'config_id=config-a', {}, 'unauthorized'],
    ['an unknown key', 'api_key=nope', {}, 'unauthorized'],
    ['a key for other configs', 'api_key=hume-only-a&config_id=config-b', {}, 'unauthorized'],
    ['a bad config id', `api_key=${KEY}&config_id=${encodeURIComponent('a b')}`, {}, 'config_not_found'],
    ['an unknown chat group', `api_key=${KEY}&resumed_chat_group_id=nope`, {}, 'chat_group_not_found'],
    ['settings that are not JSON', `api_key=${KEY}&session_settings=%7Bnope`, {}, 'invalid_session_settings'],
    [
      'stereo settings',
      `api_key=${KEY}&session_settings[audio][sample_rate]=16000&session_settings[audio][channels]=2`,
      {},
      'invalid_session_settings',
    ],
  ])('%s: an error, then close 1008', async (_name, query, headers, slug) => {
    const client = await openWire(url(query), { headers });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.messages).toEqual([{ type: 'error', code: '1008', slug, message: closed.reason }]);
    expectValid(client);
  });

  test('the X-Hume-Api-Key header and an access token from POST /oauth2-cc/token open a chat', async () => {
    const byHeader = await openWire(url(''), { headers: { 'X-Hume-Api-Key': KEY } });
    await byHeader.waitFor(isType('chat_metadata'));
    await byHeader.close();
    const http = agent.origin.replace('ws://', 'http://');
    const token = (basic: string, body = 'grant_type=client_credentials') =>
      fetch(`${http}/oauth2-cc/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(basic).toString('base64')}` },
        body,
      });
    expect((await token('nope:secret')).status).toBe(401);
    expect((await token(`${KEY}:`)).status).toBe(401);
    expect((await token(`${KEY}:secret`, 'grant_type=password')).status).toBe(400);
    const answer = (await (await token(`${KEY}:secret`)).json()) as { access_token: string };
    const byToken = await openWire(url(`access_token=${answer.access_token}`));
    await byToken.waitFor(isType('chat_metadata'));
    await byToken.close();
    expect((await fetch(`${http}/v0/evi/chat`)).status).toBe(426);
  });
});

describe('Hume EVI: the conversation', () => {
  test.each([
    [
      'the SDK’s bracketed query',
      'session_settings[audio][encoding]=linear16&session_settings[audio][sample_rate]=24000&session_settings[audio][channels]=1',
    ],
    [
      'a JSON query',
      `session_settings=${encodeURIComponent(JSON.stringify({ audio: { encoding: 'linear16', sample_rate: 24_000, channels: 1 } }))}`,
    ],
  ])(
    'settings in %s: linear16 at 24 kHz is heard; user_message with its time, then the reply',
    async (_name, settings) => {
      const client = await start(`api_key=${KEY}&${settings}`, 0);
      try {
        await client.waitFor(isType('assistant_end'));
        const { seconds, pcm } = await speechFrames(24_000);
        const bytes = pcm16ToBytes(floatToPcm16(pcm));
        const frames: string[] = [];
        for (let i = 0; i < bytes.length; i += 960) frames.push(encodeBase64(bytes.subarray(i, i + 960)));
        await sendSpeech(client, frames);
        const user = await client.waitFor(isType('user_message'));
        expect(user).toMatchObject({
          message: { role: 'user', content: expect.stringMatching(/^\(\d\.\d s of speech\)$/) },
          interim: false,
          from_text: false,
        });
        const time = user.time as { begin: number; end: number };
        expect(time.end - time.begin).toBeGreaterThan(seconds * 1000 * 0.6);
        await client.waitFor((m) => m.type === 'assistant_end', client.messages.indexOf(user));
        expect(client.messages.filter(isType('assistant_message')).at(-1)).toMatchObject({
          message: { content: 'Here is what I heard.' },
        });
        expectValid(client);
      } finally {
        await client.close();
      }
    },
  );

  test('without audio settings the input is a recorder’s container: a WAV stream is heard; verbose_transcription adds an interim user_message', async () => {
    const client = await start(`api_key=${KEY}&verbose_transcription=true`, 0);
    try {
      await client.waitFor(isType('assistant_end'));
      const { pcm } = await speechFrames(16_000);
      const wav = encodeWav16(pcm, 16_000);
      const frames: string[] = [];
      for (let i = 0; i < wav.length; i += 640) frames.push(encodeBase64(wav.subarray(i, i + 640)));
      await sendSpeech(client, frames);
      const final = await client.waitFor((m) => m.type === 'user_message' && m.interim === false);
      const interim = client.messages.find((m) => m.type === 'user_message' && m.interim === true);
      expect(interim).toBeDefined();
      expect(client.messages.indexOf(interim!)).toBeLessThan(client.messages.indexOf(final));
      expectValid(client);
    } finally {
      await client.close();
    }
  });

  test('malformed messages each get an error and the chat goes on; custom_session_id is echoed', async () => {
    const client = await start();
    try {
      await client.waitFor(isType('assistant_end'));
      const cases: [string | Buffer, string][] = [
        ['not json', 'invalid_message'],
        ['[1,2]', 'invalid_message'],
        ['{"no_type":true}', 'invalid_message'],
        ['{"type":"from_the_future"}', 'invalid_message'],
        [Buffer.from([1, 2, 3]), 'invalid_message'],
        ['{"type":"audio_input","data":12}', 'invalid_audio'],
        ['{"type":"audio_input","data":"@@ not base64 @@"}', 'invalid_audio'],
        // Three bytes of linear16: not whole samples.
        ['{"type":"audio_input","data":"AAAA"}', 'invalid_audio'],
        ['{"type":"user_input","text":5}', 'invalid_message'],
        ['{"type":"assistant_input"}', 'invalid_message'],
        [
          '{"type":"session_settings","audio":{"encoding":"mp3","sample_rate":16000,"channels":1}}',
          'invalid_session_settings',
        ],
        ['{"type":"session_settings","voice_id":7}', 'invalid_session_settings'],
      ];
      for (const [frame, slug] of cases) {
        const from = client.messages.length;
        client.ws.send(frame, { binary: Buffer.isBuffer(frame) });
        const error = await client.waitFor(isType('error'), from);
        expect(error, String(frame)).toEqual({
          type: 'error',
          code: '1008',
          slug,
          message: expect.any(String),
        });
      }
      client.send({ type: 'session_settings', custom_session_id: 'my-session' });
      client.send({ type: 'tool_response', tool_call_id: 't1', content: '{}' });
      const from = client.messages.length;
      client.send({ type: 'user_input', text: 'still here?' });
      await client.waitFor(isType('assistant_end'), from);
      const after = client.messages.slice(from);
      expect(after.find(isType('assistant_message'))).toMatchObject({
        message: { content: 'You wrote: still here?' },
        custom_session_id: 'my-session',
      });
      expect(after.every((m) => m.custom_session_id === 'my-session')).toBe(true);
      expect(after.filter(isType('error'))).toEqual([]);
      expectValid(client);
    } finally {
      await client.close();
    }
  });
});

describe('Hume EVI: resumption, faults and the limit', () => {
  test('resumed_chat_group_id: the same chat group, a new chat id, no greeting; ?hangupAfterTurns=1 closes with 1000', async () => {
    const first = await start();
    await first.waitFor(isType('assistant_end'));
    const metadata = first.messages[0]!;
    await first.close();
    const resumed = await start(
      `api_key=${KEY}&resumed_chat_group_id=${metadata.chat_group_id}&hangupAfterTurns=1`,
    );
    expect(resumed.messages[0]).toMatchObject({ chat_group_id: metadata.chat_group_id });
    expect(resumed.messages[0]!.chat_id).not.toBe(metadata.chat_id);
    resumed.send({ type: 'user_input', text: 'bye' });
    expect((await resumed.closed).code).toBe(1000);
    const said = resumed.messages
      .filter(isType('assistant_message'))
      .map((m) => (m.message as { content: string }).content);
    expect(said).toEqual(['You wrote: bye', 'That is all for now. Goodbye!']);
    expectValid(resumed);
  });

  test('?fault=error:4500:200: an error with code 1011, then close 1011', async () => {
    const client = await start(`api_key=${KEY}&fault=error:4500:200`);
    expect((await client.closed).code).toBe(1011);
    expect(client.messages.find(isType('error'))).toMatchObject({ code: '1011', slug: 'internal_error' });
    expectValid(client);
  });

  test('past maxConnections a chat is refused: too_many_chats, close 1013', async () => {
    const first = await start(undefined, 16_000, small);
    try {
      const second = await openWire(url(undefined, small));
      expect((await second.closed).code).toBe(1013);
      expect(second.messages).toEqual([expect.objectContaining({ type: 'error', slug: 'too_many_chats' })]);
    } finally {
      await first.close();
    }
  });
});
