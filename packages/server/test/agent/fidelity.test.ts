/**
 * What the local agent does to match the deployed service and its SDK (docs/protocol.md), over
 * real sockets: the second path, `isFatal` on every error, anonymous setups when allowed, the
 * SDK's bookkeeping taken quietly, `onAgentGreetingEnd` always once, and hanging up after N turns.
 */
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { audioBytes, connect, type ServerFrame, type TestClient } from './client.ts';
import { decodeOutput, levelDb } from './decode.ts';

const GOODBYE = 'That is all for now. Goodbye!';

async function live(url: string, setup: Record<string, unknown> = {}): Promise<TestClient> {
  const client = await connect(url);
  client.send({
    type: 'setup',
    apiKey: 'k',
    customGreeting: '',
    outputFormat: 'raw',
    outputSampleRate: 16_000,
    ...setup,
  });
  await client.waitFor('init');
  return client;
}

function types(messages: ServerFrame[]): string[] {
  return messages.map((m) => m.type);
}

describe('the deployed SDK path and isFatal', () => {
  let agent: LocalAgent;
  const lines: string[] = [];
  beforeAll(async () => {
    agent = await startLocalAgent({ log: (line) => lines.push(line) });
  });
  afterAll(() => agent.close());

  test('/v1/agents/<agentId>/start-conversation serves the same protocol as /v1/talk/<agentId>', async () => {
    expect(agent.url).toBe(`${agent.origin}/v1/talk`);
    const client = await connect(`${agent.origin}/v1/agents/sdk-agent/start-conversation`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'Hi.',
      outputFormat: 'raw',
      outputSampleRate: 16_000,
    });
    await client.waitFor('audioStreamEnd');
    expect(types(client.messages).slice(0, 3)).toEqual(['init', 'onAgentGreeting', 'newAudioStream']);
    await client.close();
    expect(
      lines.some(
        (line) =>
          line.includes('/v1/agents/sdk-agent/start-conversation') && line.includes('agent=sdk-agent'),
      ),
    ).toBe(true);
    // Plain HTTP on it says it is a WebSocket endpoint, as on /v1/talk.
    const http = await fetch(
      `${agent.origin.replace('ws://', 'http://')}/v1/agents/sdk-agent/start-conversation`,
    );
    expect(http.status).toBe(426);
    // Other paths under /v1/agents are not ours.
    const other = await fetch(`${agent.origin.replace('ws://', 'http://')}/v1/agents/sdk-agent`);
    expect(other.status).toBe(404);
  });

  test('a setup refusal carries isFatal: true (the SDK drops an error without it)', async () => {
    const client = await connect(`${agent.origin}/v1/agents/a1/start-conversation`);
    client.send({ type: 'setup' });
    const { message } = await client.waitFor('error');
    expect(message).toEqual({
      type: 'error',
      code: 1001,
      message: expect.stringMatching(/no apiKey/),
      isFatal: true,
    });
    expect((await client.closed).code).toBe(1008);
  });

  test('an error that does not end the call carries isFatal: false', async () => {
    const client = await live(`${agent.url}/a2`);
    client.send({ type: 'audioIn', data: '@@not base64@@' });
    const { message } = await client.waitFor('error');
    expect(message).toMatchObject({ code: 4400, isFatal: false });
    await client.close();
  });

  test('a bad ?hangupAfterTurns is refused with 4400, isFatal', async () => {
    const client = await connect(`${agent.url}/a3?hangupAfterTurns=0`);
    client.send({ type: 'setup', apiKey: 'k' });
    const { message } = await client.waitFor('error');
    expect(message).toMatchObject({ code: 4400, isFatal: true });
    expect(String(message.message)).toMatch(/hangupAfterTurns must be a whole number from 1/);
  });
});

describe('messages from the client the protocol does not define', () => {
  let agent: LocalAgent;
  const lines: string[] = [];
  beforeAll(async () => {
    agent = await startLocalAgent({ log: (line) => lines.push(line) });
  });
  afterAll(() => agent.close());

  test("the SDK's bookkeeping is taken quietly: no error, no log line, the call goes on", async () => {
    const client = await live(`${agent.url}/quiet`);
    client.send({ type: 'mediaLog', payload: { type: 'MEDIA_ON_PLAY', msg: 'Agent speech started.' } });
    client.send({ type: 'bufferEmpty' });
    client.send({ type: 'extendConversationSetup', events: [{ name: 'x' }] });
    client.send({
      type: 'conversationAudio',
      data: 'AAAA',
      chunkIndex: 1,
      totalChunks: 1,
      mimeType: 'audio/webm',
    });
    client.send({ type: 'customInput', data: 'still here' });
    await client.waitFor('audioStreamEnd');
    expect(types(client.messages)).not.toContain('error');
    await client.close();
    expect(lines.filter((line) => line.includes('unknown type'))).toEqual([]);
  });

  test('another unknown type is ignored with one log line per type, and no error frame', async () => {
    const client = await live(`${agent.url}/tolerant`);
    client.send({ type: 'somethingNew', x: 1 });
    client.send({ type: 'somethingNew', x: 2 });
    client.send({ type: 'customInput', data: 'still here' });
    await client.waitFor('audioStreamEnd');
    expect(types(client.messages)).not.toContain('error');
    await client.close();
    expect(
      lines.filter((line) => line.includes('ignored a message of unknown type "somethingNew"')),
    ).toHaveLength(1);
  });
});

describe('onAgentGreetingEnd, always once after init', () => {
  let agent: LocalAgent;
  beforeAll(async () => {
    agent = await startLocalAgent({ log: false });
  });
  afterAll(() => agent.close());

  test('an empty customGreeting: onAgentGreetingEnd with an empty message, right after init', async () => {
    const client = await live(`${agent.url}/g1`);
    await client.waitFor('onAgentGreetingEnd');
    expect(client.messages.slice(0, 2)).toEqual([
      expect.objectContaining({ type: 'init' }),
      { type: 'onAgentGreetingEnd', message: '' },
    ]);
    client.send({ type: 'customInput', data: 'hi' });
    await client.waitFor('audioStreamEnd');
    expect(types(client.messages).filter((t) => t === 'onAgentGreetingEnd')).toHaveLength(1);
    await client.close();
  });
});

describe('anonymous setups', () => {
  test('allowAnonymous accepts a setup without apiKey; a key that is given is still checked', async () => {
    const agent = await startLocalAgent({ log: false, allowAnonymous: true, apiKeys: ['right'] });
    try {
      const anonymous = await connect(`${agent.url}/public`);
      anonymous.send({ type: 'setup', customGreeting: '' });
      await anonymous.waitFor('init');
      await anonymous.close();
      const wrong = await connect(`${agent.url}/public`);
      wrong.send({ type: 'setup', apiKey: 'wrong' });
      expect((await wrong.waitFor('error')).message).toMatchObject({ code: 1003, isFatal: true });
    } finally {
      await agent.close();
    }
  });

  test('without it (the default) a setup without apiKey gets 1001', async () => {
    const agent = await startLocalAgent({ log: false });
    try {
      const client = await connect(`${agent.url}/public`);
      client.send({ type: 'setup' });
      expect((await client.waitFor('error')).message).toMatchObject({ code: 1001, isFatal: true });
    } finally {
      await agent.close();
    }
  });
});

describe('hanging up after N turns', () => {
  /** After the reply's end: the goodbye spoken, its end, then hangup and a 1000 close. */
  async function expectGoodbye(client: TestClient, from: number) {
    const goodbye = await client.waitFor('onAgentTranscript', from);
    expect(goodbye.message.message).toBe(GOODBYE);
    const stream = await client.waitFor('newAudioStream', goodbye.index);
    const end = await client.waitFor('audioStreamEnd', stream.index);
    expect(end.message).toMatchObject({ message: GOODBYE, jobId: expect.any(Number) });
    // The goodbye is speech the user hears, not an empty stream.
    const audio = (await decodeOutput('raw', audioBytes(client.messages, stream.index, end.index), 16_000))
      .samples;
    expect(audio.length / 16_000).toBeGreaterThan(0.8);
    expect(levelDb(audio)).toBeGreaterThan(-35);
    const closed = await client.closed;
    expect(client.messages.slice(end.index + 1)).toEqual([{ type: 'hangup', endedBy: 'agent' }]);
    expect(closed.code).toBe(1000);
  }

  test('hangupAfterTurns: 1 — the first reply plays out, then the goodbye and the hangup', async () => {
    const agent = await startLocalAgent({ log: false, hangupAfterTurns: 1 });
    try {
      const client = await live(`${agent.url}/h1`);
      client.send({ type: 'customInput', data: 'one' });
      const reply = await client.waitFor('onAgentTranscript');
      expect(reply.message.message).toBe('You wrote: one');
      const replyEnd = await client.waitFor('audioStreamEnd', reply.index);
      await expectGoodbye(client, replyEnd.index);
    } finally {
      await agent.close();
    }
  });

  test('?hangupAfterTurns=2 on the URL wins over the agent setting; input during the goodbye starts no turn', async () => {
    const agent = await startLocalAgent({ log: false, hangupAfterTurns: 5 });
    try {
      const client = await live(`${agent.url}/h2?hangupAfterTurns=2`);
      client.send({ type: 'customInput', data: 'one' });
      const first = await client.waitFor('audioStreamEnd');
      client.send({ type: 'customInput', data: 'two' });
      const second = await client.waitFor('audioStreamEnd', first.index + 1);
      client.send({ type: 'customInput', data: 'three' });
      await expectGoodbye(client, second.index);
      const said = client.messages.filter((m) => m.type === 'onAgentTranscript').map((m) => m.message);
      expect(said).toEqual(['You wrote: one', 'You wrote: two', GOODBYE]);
    } finally {
      await agent.close();
    }
  });

  test('startLocalAgent refuses a hangupAfterTurns that is not a whole number from 1', async () => {
    await expect(startLocalAgent({ log: false, hangupAfterTurns: 0 })).rejects.toThrow(RangeError);
    await expect(startLocalAgent({ log: false, hangupAfterTurns: 1.5 })).rejects.toThrow(RangeError);
  });
});
