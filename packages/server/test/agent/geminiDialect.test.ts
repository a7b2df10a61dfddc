/**
 * The local agent's Gemini Live dialect on the wire, with a plain `ws` client: the endpoints
 * (every API version, the constrained one, the SDK's double slash), credentials, the setup, the
 * server's JSON in binary frames, malformed client messages (each closes the socket with 1007 and
 * a reason that says what was wrong, as the service does; nothing throws), text, the greeting on
 * request, ephemeral tokens, faults and the limit. The SDK's view of the same protocol is
 * packages/server/test/sdk/geminiSdk.test.ts.
 */
import { encodeBase64, floatToPcm16, pcm16ToBytes } from '@voicewire/core';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat } from '../../../../testing/audio.ts';
import { silence } from './input.ts';
import { openWire, type WireClient, type WireMessage } from './wireClient.ts';

const KEY = 'gemini-dialect-test';
const MODEL = 'gemini-live-2.5-flash-preview';
const PATH = '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent';

let agent: LocalAgent;
let small: LocalAgent;
const log: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY, { key: 'only-other', agentIds: ['other-model'] }],
    greeting: 'Hello there.',
    log: (line) => log.push(line),
  });
  small = await startLocalAgent({ apiKeys: [KEY], maxConnections: 1, greeting: '', log: false });
});
afterAll(async () => {
  await agent.close();
  await small.close();
});

function liveUrl(target: LocalAgent, query = `key=${KEY}`, path = PATH): string {
  return `${target.origin}${path}?${query}`;
}

function setup(extra: Record<string, unknown> = {}): { setup: Record<string, unknown> } {
  return {
    setup: {
      model: `models/${MODEL}`,
      generationConfig: { responseModalities: ['AUDIO'] },
      outputAudioTranscription: {},
      inputAudioTranscription: {},
      ...extra,
    },
  };
}

/** Open and set up; resolves at `setupComplete`. */
async function start(query?: string, extra?: Record<string, unknown>, target = agent): Promise<WireClient> {
  const client = await openWire(liveUrl(target, query), { jsonInBinary: true });
  client.send(setup(extra));
  await client.waitFor((m) => 'setupComplete' in m);
  return client;
}

const content = (m: WireMessage) => (m.serverContent ?? {}) as Record<string, unknown>;

describe('Gemini Live: opening', () => {
  test.each([
    ['v1', PATH],
    ['v1beta', '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent'],
    ['v1alpha', '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent'],
    // How @google/genai joins its base URL and the path.
    ['a double slash', `/${PATH}`],
  ])(
    '%s: setupComplete in a binary frame, then the greeting as PCM16 at 24 kHz with its transcription',
    async (_name, path) => {
      const client = await openWire(liveUrl(agent, `key=${KEY}`, path), { jsonInBinary: true });
      const binary: boolean[] = [];
      client.ws.on('message', (_data, isBinary) => binary.push(isBinary));
      try {
        client.send(setup());
        const done = await client.waitFor((m) => 'setupComplete' in m);
        expect(client.messages.indexOf(done)).toBe(0);
        expect(done.setupComplete).toEqual({ sessionId: expect.stringMatching(/^conv_/) });
        await client.waitFor((m) => content(m).turnComplete === true);
        expect(binary.every(Boolean)).toBe(true);
        const parts = client.messages.flatMap((m) => {
          const turn = content(m).modelTurn as
            | { parts: { inlineData: { mimeType: string; data: string } }[] }
            | undefined;
          return turn?.parts ?? [];
        });
        expect(new Set(parts.map((p) => p.inlineData.mimeType))).toEqual(new Set(['audio/pcm;rate=24000']));
        const bytes = parts.reduce((n, p) => n + Buffer.from(p.inlineData.data, 'base64').length, 0);
        const expected = await synthesizeSpeech('Hello there.', { sampleRate: 24_000 });
        expect(bytes).toBe(expected.length * 2);
        const transcript = client.messages
          .map((m) => content(m).outputTranscription as { text: string; finished?: boolean } | undefined)
          .filter((t) => t !== undefined);
        expect(transcript.map((t) => t.text).join('')).toBe('Hello there.');
        expect(transcript.at(-1)!.finished).toBe(true);
        // generationComplete, then turnComplete; no sessionResumptionUpdate without sessionResumption.
        const kinds = client.messages.slice(-2).map((m) => Object.keys(content(m))[0]);
        expect(kinds).toEqual(['generationComplete', 'turnComplete']);
        expect(client.messages.some((m) => 'sessionResumptionUpdate' in m)).toBe(false);
      } finally {
        await client.close();
      }
    },
  );

  test.each([
    ['no key', '', 1008, /missing a valid API key/],
    ['an unknown key', 'key=nope', 1007, /API key not valid/],
    ['a bad query', `key=${KEY}&fault=explode`, 1007, /Invalid query/],
    ['a bad greeting', `key=${KEY}&greeting=sometimes`, 1007, /greeting must be/],
  ])('%s: closed with %i and a reason before any message', async (_name, query, code, reason) => {
    const client = await openWire(liveUrl(agent, query), { jsonInBinary: true });
    const closed = await client.closed;
    expect(closed.code).toBe(code);
    expect(closed.reason).toMatch(reason);
    expect(client.messages).toEqual([]);
  });

  test('the x-goog-api-key header is a key too; the constrained endpoint takes an access_token', async () => {
    const byHeader = await openWire(liveUrl(agent, ''), {
      headers: { 'x-goog-api-key': KEY },
      jsonInBinary: true,
    });
    byHeader.send(setup());
    await byHeader.waitFor((m) => 'setupComplete' in m);
    await byHeader.close();
    const constrained = await openWire(
      liveUrl(
        agent,
        `key=${KEY}`,
        '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained',
      ),
      { jsonInBinary: true },
    );
    // A key in `key=` is not an access token: the constrained endpoint saw none.
    expect((await constrained.closed).reason).toMatch(/missing an access_token/);
  });

  test.each([
    ['a model name with a space', { model: 'models/unknown model' }, 1007, /not a model name/],
    ['TEXT responses', { generationConfig: { responseModalities: ['TEXT'] } }, 1007, /speech only/],
    [
      'a voice that is not a string',
      { generationConfig: { speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 7 } } } } },
      1007,
      /voiceName/,
    ],
    [
      'a bad activityHandling',
      { realtimeInputConfig: { activityHandling: 'SOMETIMES' } },
      1007,
      /activityHandling/,
    ],
    [
      'an unknown resumption handle',
      { sessionResumption: { handle: 'conv_nope.3' } },
      1008,
      /handle is invalid/,
    ],
  ])('setup with %s: closed with %i and why', async (_name, extra, code, reason) => {
    const client = await openWire(liveUrl(agent), { jsonInBinary: true });
    client.send(setup(extra));
    const closed = await client.closed;
    expect(closed.code).toBe(code);
    expect(closed.reason).toMatch(reason);
    expect(client.messages).toEqual([]);
  });

  test('a key granted to another model is refused that one with 1008', async () => {
    const client = await openWire(liveUrl(agent, 'key=only-other'), { jsonInBinary: true });
    client.send(setup());
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1008, reason: `This credential does not open models/${MODEL}.` });
  });

  test('malformed messages close the socket with 1007 and a reason that names the problem', async () => {
    const cases: [string | Record<string, unknown>, RegExp][] = [
      ['not json', /Invalid JSON payload/],
      ['[1,2]', /must be a JSON object/],
      [
        { realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } },
        /first message must be a setup/,
      ],
      [{ setup: {}, bogus: 1 }, /Unknown name "bogus"/],
    ];
    for (const [frame, reason] of cases) {
      const client = await openWire(liveUrl(agent), { jsonInBinary: true });
      client.send(frame);
      expect((await client.closed).reason, JSON.stringify(frame)).toMatch(reason);
    }
    const afterSetup: [Record<string, unknown>, RegExp][] = [
      [{ realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/webm' } } }, /16-bit PCM/],
      [
        { realtimeInput: { audio: { data: '@@ not base64 @@', mimeType: 'audio/pcm;rate=16000' } } },
        /not valid base64/,
      ],
      // Three bytes: not whole 16-bit samples.
      [
        { realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } },
        /whole 16-bit samples/,
      ],
      [{ realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=1000' } } }, /outside 8000/],
      [{ realtimeInput: { text: 42 } }, /text must be a string/],
      [{ realtimeInput: { activityStart: {} } }, /automatic activity detection is disabled/],
      [{ clientContent: { turns: 'hello' } }, /turns must be a list/],
      [{ setup: setup().setup }, /already set up/],
      [{ serverContent: {} }, /Unknown name "serverContent"/],
    ];
    for (const [frame, reason] of afterSetup) {
      const client = await start(undefined, {});
      client.send(frame);
      const closed = await client.closed;
      expect(closed.code, JSON.stringify(frame)).toBe(1007);
      expect(closed.reason, JSON.stringify(frame)).toMatch(reason);
    }
    // The log line says who closed with what.
    await expect
      .poll(() =>
        log.some((l) => l.includes('closed by agent 1007 "Invalid JSON payload received. Unknown name')),
      )
      .toBe(true);
  });
});

describe('Gemini Live: the conversation', () => {
  test('a spoken turn at 16 kHz (in mediaChunks, the older form): its transcription, then the reply; realtimeInput.text is answered', async () => {
    const client = await start(`key=${KEY}&greeting=on-request`);
    try {
      const speech = await synthesizeSpeech('Testing one two three.', { sampleRate: 16_000 });
      const pcm = pcm16ToBytes(floatToPcm16(concat(speech, silence(1.2, 16_000))));
      for (let offset = 0; offset < pcm.length; offset += 640) {
        client.send({
          realtimeInput: {
            mediaChunks: [
              { data: encodeBase64(pcm.subarray(offset, offset + 640)), mimeType: 'audio/pcm;rate=16000' },
            ],
          },
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const heard = await client.waitFor((m) => content(m).inputTranscription !== undefined);
      expect(content(heard).inputTranscription).toEqual({
        text: expect.stringMatching(/^\(\d\.\d s of speech\)$/),
        finished: true,
      });
      const from = client.messages.indexOf(heard);
      await client.waitFor((m) => content(m).turnComplete === true, from);
      const said = client.messages
        .slice(from)
        .map((m) => (content(m).outputTranscription as { text: string } | undefined)?.text ?? '')
        .join('');
      expect(said).toBe('Here is what I heard.');

      const next = client.messages.length;
      client.send({ realtimeInput: { text: 'hi there' } });
      await client.waitFor((m) => content(m).turnComplete === true, next);
      const answer = client.messages
        .slice(next)
        .map((m) => (content(m).outputTranscription as { text: string } | undefined)?.text ?? '')
        .join('');
      expect(answer).toBe('You wrote: hi there');
    } finally {
      await client.close();
    }
  });

  test('?greeting=on-request: nothing until an empty clientContent { turnComplete: true }, then the greeting; toolResponse and contextUpdate are taken quietly', async () => {
    const client = await start(`key=${KEY}&greeting=on-request`);
    try {
      client.send({ toolResponse: { functionResponses: [] } });
      client.send({ contextUpdate: { systemInstruction: { parts: [{ text: 'Be brief.' }] } } });
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(client.messages).toHaveLength(1);
      client.send({ clientContent: { turnComplete: true } });
      await client.waitFor((m) => content(m).turnComplete === true);
      const said = client.messages
        .map((m) => (content(m).outputTranscription as { text: string } | undefined)?.text ?? '')
        .join('');
      expect(said).toBe('Hello there.');
    } finally {
      await client.close();
    }
  });

  test('ephemeral tokens: POST /v1alpha/auth_tokens mints one; its uses, its model, and the key that asks are checked', async () => {
    const http = agent.origin.replace('ws://', 'http://');
    const mint = (body: unknown, headers: Record<string, string> = { 'x-goog-api-key': KEY }) =>
      fetch(`${http}/v1alpha/auth_tokens`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect((await mint({}, {})).status).toBe(403);
    expect((await mint({}, { 'x-goog-api-key': 'nope' })).status).toBe(400);
    expect((await mint({ uses: -1 })).status).toBe(400);
    expect((await mint({ expireTime: '2001-01-01T00:00:00Z' })).status).toBe(400);
    const answer = await mint({ uses: 2, bidiGenerateContentSetup: { model: `models/${MODEL}` } });
    expect(answer.status).toBe(200);
    const token = (await answer.json()) as {
      name: string;
      uses: number;
      expireTime: string;
      newSessionExpireTime: string;
    };
    expect(token).toMatchObject({ name: expect.stringMatching(/^auth_tokens\//), uses: 2 });
    expect(Date.parse(token.newSessionExpireTime)).toBeLessThan(Date.parse(token.expireTime));

    const constrained =
      '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained';
    const query = `access_token=${encodeURIComponent(token.name)}`;
    for (let use = 0; use < 2; use++) {
      const client = await openWire(liveUrl(agent, query, constrained), { jsonInBinary: true });
      client.send(setup());
      await client.waitFor((m) => 'setupComplete' in m);
      await client.close();
    }
    const spent = await openWire(liveUrl(agent, query, constrained), { jsonInBinary: true });
    expect(await spent.closed).toEqual({
      code: 1008,
      reason: 'The ephemeral token has no uses left: create a new one.',
    });
    // Bound to its model.
    const bound = (await (
      await mint({ bidiGenerateContentSetup: { model: 'models/other-model' } })
    ).json()) as { name: string };
    const other = await openWire(
      liveUrl(agent, `access_token=${encodeURIComponent(bound.name)}`, constrained),
      {
        jsonInBinary: true,
      },
    );
    other.send(setup());
    expect((await other.closed).reason).toMatch(/does not open models/);
    // A plain GET of the socket path says what it is.
    const get = await fetch(`${http}${PATH}`);
    expect(get.status).toBe(426);
  });
});

describe('Gemini Live: faults and the limit', () => {
  test('?fault=error:4500:200 closes with 1011; ?fault=drop:200 cuts the connection (1006)', async () => {
    const failing = await start(`key=${KEY}&greeting=on-request&fault=error:4500:200`);
    expect((await failing.closed).code).toBe(1011);
    const dropped = await start(`key=${KEY}&greeting=on-request&fault=drop:200`);
    expect((await dropped.closed).code).toBe(1006);
  });

  test('?fault=garbage interleaves malformed text frames with the binary stream', async () => {
    const client = await start(`key=${KEY}&fault=garbage`);
    try {
      await client.waitFor((m) => content(m).turnComplete === true);
      expect(client.other.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  test('past maxConnections a setup is refused with 1011', async () => {
    const first = await start(undefined, {}, small);
    try {
      const second = await openWire(liveUrl(small), { jsonInBinary: true });
      second.send(setup());
      const closed = await second.closed;
      expect(closed.code).toBe(1011);
      expect(closed.reason).toMatch(/allows 1 sessions/);
    } finally {
      await first.close();
    }
  });
});
