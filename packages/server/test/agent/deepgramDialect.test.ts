/**
 * The local agent's Deepgram Voice Agent dialect on the wire, with a plain `ws` client: the
 * credentials (header and the browser's subprotocol pairs, whose scheme is echoed and never the
 * key), `Welcome` and `Settings`, audio as binary frames in the formats asked (μ-law, a WAV
 * container), malformed messages (each an `Error`, the socket left open), grants, faults and the
 * limit. The SDK's view of the same protocol is packages/server/test/sdk/deepgramSdk.test.ts.
 */
import { floatToPcm16, mulawEncode } from '@voicewire/core';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat } from '../../../../testing/audio.ts';
import { silence } from './input.ts';
import { openWire, type WireClient, type WireMessage } from './wireClient.ts';

const KEY = 'dg-dialect-test';
const GREETING = 'Hello there.';

let agent: LocalAgent;
let small: LocalAgent;
const log: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY, { key: 'dg-only-a', agentIds: ['agent-a'] }],
    greeting: GREETING,
    // These clients send nothing while the agent talks; dropping a silent client is tested with
    // the SDK (packages/server/test/sdk/deepgramSdk.test.ts) and the command line.
    deepgram: { clientTimeoutMs: 600_000 },
    log: (line) => log.push(line),
  });
  small = await startLocalAgent({
    apiKeys: [KEY],
    maxConnections: 1,
    greeting: '',
    deepgram: { clientTimeoutMs: 600_000 },
    log: false,
  });
});
afterAll(async () => {
  await agent.close();
  await small.close();
});

const url = (target = agent, query = '') => `${target.origin}/v1/agent/converse${query}`;
const auth = { authorization: `Token ${KEY}` };

function settings(audio: Record<string, unknown> = {}, agentBlock: Record<string, unknown> = {}) {
  return {
    type: 'Settings',
    audio: {
      input: { encoding: 'linear16', sample_rate: 16_000 },
      output: { encoding: 'linear16', sample_rate: 16_000, container: 'none' },
      ...audio,
    },
    agent: { greeting: '', ...agentBlock },
  };
}

/** Open with the header, send Settings, wait for SettingsApplied. */
async function start(
  options: { settings?: Record<string, unknown>; query?: string; target?: LocalAgent } = {},
): Promise<WireClient> {
  const client = await openWire(url(options.target, options.query), { headers: auth });
  await client.waitFor((m) => m.type === 'Welcome');
  client.send(options.settings ?? settings());
  await client.waitFor((m) => m.type === 'SettingsApplied');
  return client;
}

const isType = (type: string) => (m: WireMessage) => m.type === type;

/** The binary audio that came after the `n`th message of `type`. */
function audioAfter(client: WireClient, type: string, n = 0): Buffer {
  const index = client.messages.filter(isType(type))[n];
  const at = index === undefined ? -1 : client.messages.indexOf(index);
  const next = client.messages.findIndex(
    (m, i) => i > at && m.type !== 'ConversationText' && m.type !== type,
  );
  return Buffer.concat(
    client.audio.filter((a) => a.after > at && (next < 0 || a.after <= next)).map((a) => a.bytes),
  );
}

describe('Deepgram Voice Agent: opening', () => {
  test('the header opens the agent: Welcome first, then Settings gets SettingsApplied and the greeting as binary PCM16', async () => {
    const client = await openWire(url(), { headers: auth });
    try {
      const welcome = await client.waitFor(isType('Welcome'));
      expect(client.messages.indexOf(welcome)).toBe(0);
      expect(welcome.request_id).toMatch(/^[0-9a-f-]{36}$/);
      client.send(settings({}, { greeting: GREETING }));
      await client.waitFor(isType('AgentAudioDone'));
      expect(client.messages.map((m) => m.type)).toEqual([
        'Welcome',
        'SettingsApplied',
        'ConversationText',
        'AgentStartedSpeaking',
        'AgentAudioDone',
      ]);
      expect(client.messages[2]).toEqual({ type: 'ConversationText', role: 'assistant', content: GREETING });
      const expected = await synthesizeSpeech(GREETING, { sampleRate: 16_000 });
      expect(audioAfter(client, 'AgentStartedSpeaking').length).toBe(expected.length * 2);
    } finally {
      await client.close();
    }
  });

  test.each([
    ['token', ['token', KEY, 'x-deepgram-session-id', 'abc']],
    ['bearer', ['bearer', KEY]],
  ])('the browser subprotocols: %s is echoed, never the credential after it', async (scheme, protocols) => {
    const client = await openWire(url(), { protocols });
    try {
      expect(client.ws.protocol).toBe(scheme);
      await client.waitFor(isType('Welcome'));
    } finally {
      await client.close();
    }
  });

  test.each([
    ['no credential', {}, [], 'INVALID_AUTH'],
    ['an unknown key', { authorization: 'Token nope' }, [], 'INVALID_AUTH'],
    ['an unknown key in the subprotocols', {}, ['token', 'nope'], 'INVALID_AUTH'],
    ['a key granted to other agents', { authorization: 'Token dg-only-a' }, [], 'INSUFFICIENT_PERMISSIONS'],
  ])('%s: an Error, then close 1008', async (_name, headers, protocols, code) => {
    const client = await openWire(url(), { headers, protocols });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.messages).toEqual([{ type: 'Error', code, description: expect.any(String) }]);
  });

  test('POST /v1/auth/grant grants a JSON Web Token that opens the agent as bearer; the key that asks is checked', async () => {
    const http = agent.origin.replace('ws://', 'http://');
    const grant = (headers: Record<string, string>, body = '{"ttl_seconds":60}') =>
      fetch(`${http}/v1/auth/grant`, { method: 'POST', headers, body });
    expect((await grant({})).status).toBe(401);
    expect((await grant({ authorization: 'Token nope' })).status).toBe(401);
    expect((await grant(auth, '{"ttl_seconds":0}')).status).toBe(400);
    const answer = await grant(auth);
    expect(answer.status).toBe(200);
    const { access_token, expires_in } = (await answer.json()) as {
      access_token: string;
      expires_in: number;
    };
    expect(access_token).toMatch(/^[\w-]+\.[\w-]+\.$/);
    expect(expires_in).toBe(60);
    const client = await openWire(url(), { protocols: ['bearer', access_token] });
    await client.waitFor(isType('Welcome'));
    await client.close();
    await expect.poll(() => log.some((l) => l.includes('/v1/agent/converse'))).toBe(true);
    expect((await fetch(`${http}/v1/agent/converse`)).status).toBe(426);
  });
});

describe('Deepgram Voice Agent: the conversation', () => {
  test('μ-law at 8 kHz both ways: a spoken turn gets UserStartedSpeaking, the user text, AgentThinking, then the reply in μ-law', async () => {
    const mulaw = { encoding: 'mulaw', sample_rate: 8_000 };
    const client = await start({
      settings: settings({ input: mulaw, output: { ...mulaw, container: 'none' } }),
    });
    try {
      const speech = await synthesizeSpeech('Testing one two three.', { sampleRate: 8_000 });
      const bytes = mulawEncode(floatToPcm16(concat(speech, silence(1.2, 8_000))));
      for (let offset = 0; offset < bytes.length; offset += 160) {
        client.ws.send(bytes.subarray(offset, offset + 160), { binary: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.waitFor(isType('AgentAudioDone'));
      expect(client.messages.slice(2).map((m) => m.type)).toEqual([
        'UserStartedSpeaking',
        'ConversationText',
        'AgentThinking',
        'ConversationText',
        'AgentStartedSpeaking',
        'AgentAudioDone',
      ]);
      expect(client.messages[3]).toEqual({
        type: 'ConversationText',
        role: 'user',
        content: expect.stringMatching(/^\(\d\.\d s of speech\)$/),
      });
      // One byte per sample: the sentence, a pause and the speech played back, at 8 kHz.
      expect(audioAfter(client, 'AgentStartedSpeaking').length / 8_000).toBeGreaterThan(
        speech.length / 8_000 + 1,
      );
    } finally {
      await client.close();
    }
  });

  test('a WAV container: each response starts with a RIFF header; mp3 out is framed MPEG audio', async () => {
    const wav = await start({
      settings: settings(
        { output: { encoding: 'linear16', sample_rate: 24_000, container: 'wav' } },
        { greeting: GREETING },
      ),
    });
    try {
      await wav.waitFor(isType('AgentAudioDone'));
      const audio = audioAfter(wav, 'AgentStartedSpeaking');
      expect(audio.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(audio.readUInt32LE(24)).toBe(24_000);
    } finally {
      await wav.close();
    }
    const mp3 = await start({
      settings: settings({ output: { encoding: 'mp3', sample_rate: 24_000 } }, { greeting: GREETING }),
    });
    try {
      await mp3.waitFor(isType('AgentAudioDone'));
      const audio = audioAfter(mp3, 'AgentStartedSpeaking');
      expect(audio[0]).toBe(0xff);
      expect(audio[1]! & 0xe0).toBe(0xe0);
    } finally {
      await mp3.close();
    }
  });

  test('malformed messages each get an Error and the conversation goes on', async () => {
    const client = await openWire(url(), { headers: auth });
    try {
      await client.waitFor(isType('Welcome'));
      const before: [string | Buffer, string][] = [
        [Buffer.from([1, 2, 3, 4]), 'SETTINGS_REQUIRED'],
        ['{"type":"InjectUserMessage","content":"hi"}', 'SETTINGS_REQUIRED'],
        [JSON.stringify(settings({ input: { encoding: 'opus', sample_rate: 48_000 } })), 'INVALID_SETTINGS'],
        [JSON.stringify(settings({ output: { encoding: 'aac' } })), 'INVALID_SETTINGS'],
        [JSON.stringify(settings({ output: { encoding: 'mulaw', container: 'wav' } })), 'INVALID_SETTINGS'],
        [JSON.stringify(settings({ input: { encoding: 'linear16', sample_rate: 7 } })), 'INVALID_SETTINGS'],
        [JSON.stringify({ type: 'Settings', agent: 'chatty' }), 'INVALID_SETTINGS'],
      ];
      const after: [string | Buffer, string][] = [
        ['not json', 'UNPARSABLE_CLIENT_MESSAGE'],
        ['[1,2]', 'UNPARSABLE_CLIENT_MESSAGE'],
        ['{"no_type":true}', 'UNPARSABLE_CLIENT_MESSAGE'],
        ['{"type":"FromTheFuture"}', 'UNPARSABLE_CLIENT_MESSAGE'],
        [Buffer.from([1, 2, 3]), 'INVALID_AUDIO'],
        ['{"type":"InjectUserMessage","content":5}', 'INVALID_MESSAGE'],
        ['{"type":"InjectAgentMessage"}', 'INVALID_MESSAGE'],
        ['{"type":"UpdateSpeak","speak":"loud"}', 'INVALID_MESSAGE'],
        [JSON.stringify(settings()), 'SETTINGS_ALREADY_APPLIED'],
      ];
      const check = async (frames: [string | Buffer, string][]) => {
        for (const [frame, code] of frames) {
          const from = client.messages.length;
          client.ws.send(frame, { binary: Buffer.isBuffer(frame) });
          const error = await client.waitFor(isType('Error'), from);
          expect(error, String(frame)).toEqual({ type: 'Error', code, description: expect.any(String) });
        }
      };
      await check(before);
      client.send(settings());
      await client.waitFor(isType('SettingsApplied'));
      await check(after);
      // Still listening.
      const from = client.messages.length;
      client.send({ type: 'KeepAlive' });
      client.send({ type: 'UpdatePrompt', prompt: 'Be brief.' });
      client.send({ type: 'UpdateThink', think: { provider: { type: 'open_ai', model: 'gpt-4o' } } });
      client.send({ type: 'UpdateListen', listen: { provider: { type: 'deepgram', model: 'nova-3' } } });
      client.send({ type: 'FunctionCallResponse', id: 'f1', name: 'x', content: '{}' });
      client.send({ type: 'InjectUserMessage', content: 'still here?' });
      await client.waitFor(
        (m) => m.type === 'ConversationText' && m.content === 'You wrote: still here?',
        from,
      );
      expect(
        client.messages
          .slice(from)
          .map((m) => m.type)
          .slice(0, 3),
      ).toEqual(['PromptUpdated', 'ThinkUpdated', 'ListenUpdated']);
      expect(client.messages.slice(from).filter(isType('Error'))).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('Deepgram Voice Agent: faults and the limit', () => {
  test('?fault=error:4500:200: an Error, then close 1011; ?hangupAfterTurns=1 after a text turn: the goodbye, then 1000', async () => {
    const failing = await start({ query: '?fault=error:4500:200' });
    expect((await failing.closed).code).toBe(1011);
    expect(failing.messages.find(isType('Error'))).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });

    const ending = await start({ query: '?hangupAfterTurns=1' });
    ending.send({ type: 'InjectUserMessage', content: 'bye' });
    expect((await ending.closed).code).toBe(1000);
    const said = ending.messages.filter((m) => m.type === 'ConversationText' && m.role === 'assistant');
    expect(said.map((m) => m.content)).toEqual(['You wrote: bye', 'That is all for now. Goodbye!']);
  });

  test('past maxConnections Settings are refused: TOO_MANY_REQUESTS, close 1013', async () => {
    const first = await start({ target: small });
    try {
      const second = await openWire(url(small), { headers: auth });
      await second.waitFor(isType('Welcome'));
      second.send(settings());
      expect((await second.closed).code).toBe(1013);
      expect(second.messages.at(-1)).toMatchObject({ type: 'Error', code: 'TOO_MANY_REQUESTS' });
    } finally {
      await first.close();
    }
  });

  test('?fault=garbage: malformed text frames among the messages, and no binary frame that is not audio', async () => {
    const client = await start({ query: '?fault=garbage', settings: settings({}, { greeting: GREETING }) });
    try {
      await client.waitFor(isType('AgentAudioDone'));
      expect(client.other.length).toBeGreaterThan(0);
      const expected = await synthesizeSpeech(GREETING, { sampleRate: 16_000 });
      expect(client.audio.reduce((n, a) => n + a.bytes.length, 0)).toBe(expected.length * 2);
    } finally {
      await client.close();
    }
  });
});
