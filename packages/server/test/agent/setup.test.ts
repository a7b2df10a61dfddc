import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from './client.ts';

/** Send `setup` (or any first frame) and return the error and the close that follow. */
async function firstFrame(url: string, frame: unknown) {
  const client = await connect(url);
  client.send(frame);
  const { message } = await client.waitFor('error');
  const closed = await client.closed;
  return { error: message, closed, client };
}

describe('setup errors (open agent: any non-empty key, any valid agent id)', () => {
  let agent: LocalAgent;
  beforeAll(async () => {
    agent = await startLocalAgent({ port: 0, log: false });
  });
  afterAll(() => agent.close());

  test('a setup without apiKey gets 1001 and the socket closes with 1008', async () => {
    const { error, closed, client } = await firstFrame(`${agent.url}/demo`, { type: 'setup' });
    expect(error).toMatchObject({ type: 'error', code: 1001 });
    expect(error.message).toMatch(/authorization token/i);
    expect(closed.code).toBe(1008);
    // The error is the only thing said: no init, no audio.
    expect(client.messages.map((m) => m.type)).toEqual(['error']);
  });

  test('an empty apiKey gets 1001', async () => {
    const { error } = await firstFrame(`${agent.url}/demo`, { type: 'setup', apiKey: '' });
    expect(error.code).toBe(1001);
  });

  test('an agent id with characters outside A-Z a-z 0-9 _ - gets 1002', async () => {
    const { error, closed } = await firstFrame(`${agent.url}/bad.agent`, { type: 'setup', apiKey: 'k' });
    expect(error).toMatchObject({ type: 'error', code: 1002 });
    expect(closed.code).toBe(1008);
  });

  test('a URL without an agent id gets 1002 that says how to connect', async () => {
    const { error } = await firstFrame(agent.url, { type: 'setup', apiKey: 'k' });
    expect(error.code).toBe(1002);
    expect(error.message).toContain('/v1/talk/<agentId>');
  });

  test('an agent id of 129 characters gets 1002, 128 is fine', async () => {
    const long = await firstFrame(`${agent.url}/${'a'.repeat(129)}`, { type: 'setup', apiKey: 'k' });
    expect(long.error.code).toBe(1002);
    const client = await connect(`${agent.url}/${'a'.repeat(128)}`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.waitFor('init');
    await client.close();
  });

  test('malformed JSON gets 4400 and a 1007 close', async () => {
    const { error, closed } = await firstFrame(`${agent.url}/demo`, '{"type":"setup",');
    expect(error.code).toBe(4400);
    expect(error.message).toMatch(/JSON/);
    expect(closed.code).toBe(1007);
  });

  test('anything before setup gets 4400', async () => {
    const { error, closed } = await firstFrame(`${agent.url}/demo`, { type: 'audioIn', data: '' });
    expect(error.code).toBe(4400);
    expect(error.message).toMatch(/setup/);
    expect(closed.code).toBe(1008);
    const unknown = await firstFrame(`${agent.url}/demo`, { type: 'hello' });
    expect(unknown.error.code).toBe(4400);
  });

  test('a binary first frame gets 4400 and a 1003 close', async () => {
    const client = await connect(`${agent.url}/demo`);
    client.ws.send(Buffer.from([1, 2, 3]));
    const { message } = await client.waitFor('error');
    expect(message.code).toBe(4400);
    expect((await client.closed).code).toBe(1003);
  });

  test.each([
    ['an unknown outputFormat', { outputFormat: 'aac' }, /outputFormat/],
    ['an unknown inputEncoding', { inputEncoding: 'pcm' }, /inputEncoding/],
    ['linear16 without inputSampleRate', { inputEncoding: 'linear16' }, /inputSampleRate/],
    ['mulaw without inputSampleRate', { inputEncoding: 'mulaw' }, /inputSampleRate/],
    ['an outputSampleRate below 8000', { outputSampleRate: 7999 }, /outputSampleRate/],
    ['an outputSampleRate above 96000', { outputSampleRate: 96_001 }, /outputSampleRate/],
    [
      'an inputSampleRate above 96000',
      { inputEncoding: 'linear16', inputSampleRate: 192_000 },
      /inputSampleRate/,
    ],
    ['a rate that is not a number', { outputSampleRate: '44100' }, /outputSampleRate/],
    ['an apiKey that is not a string', { apiKey: 42 }, /apiKey/],
  ])('%s gets 4400 naming the field', async (_name, fields, pattern) => {
    const { error, closed } = await firstFrame(`${agent.url}/demo`, {
      type: 'setup',
      apiKey: 'k',
      ...fields,
    });
    expect(error.code).toBe(4400);
    expect(error.message).toMatch(pattern);
    expect(closed.code).toBe(1008);
  });

  test.each(['opus', 'flac', 'amr-nb', 'amr-wb', 'speex', 'g729'])(
    'headerless %s, which the local agent cannot decode, gets 4400 that says so',
    async (encoding) => {
      const { error } = await firstFrame(`${agent.url}/demo`, {
        type: 'setup',
        apiKey: 'k',
        inputEncoding: encoding,
        inputSampleRate: 16_000,
      });
      expect(error.code).toBe(4400);
      expect(error.message).toContain(`cannot decode inputEncoding "${encoding}"`);
    },
  );

  test('an unknown continueConversation gets 4400', async () => {
    const { error } = await firstFrame(`${agent.url}/demo`, {
      type: 'setup',
      apiKey: 'k',
      continueConversation: 'conv_does_not_exist',
    });
    expect(error.code).toBe(4400);
    expect(error.message).toMatch(/continueConversation/);
  });

  test('an unknown fault in the URL gets 4400', async () => {
    const { error } = await firstFrame(`${agent.url}/demo?fault=explode`, { type: 'setup', apiKey: 'k' });
    expect(error.code).toBe(4400);
    expect(error.message).toMatch(/fault/);
  });

  test('a valid setup gets init with a fresh conversation id, the owner and the language', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const client = await connect(`${agent.url}/demo-agent`);
      client.send({ type: 'setup', apiKey: 'any-key', customGreeting: '' });
      const { message, index } = await client.waitFor('init');
      expect(index).toBe(0);
      expect(message).toMatchObject({ type: 'init', agentOwnerId: expect.any(String), language: 'en' });
      expect(message.conversationId).toMatch(/^conv_[A-Za-z0-9_-]+$/);
      ids.add(message.conversationId as string);
      await client.close();
    }
    expect(ids.size).toBe(2);
  });

  test('a second setup on a live session gets a non-fatal 4400 and the session goes on', async () => {
    const client = await connect(`${agent.url}/demo`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.waitFor('init');
    client.send({ type: 'setup', apiKey: 'k' });
    const { message } = await client.waitFor('error');
    expect(message).toMatchObject({ code: 4400, isFatal: false });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    await client.close();
  });
});

describe('setup errors (agent with keys, agent ids and a connection limit)', () => {
  let agent: LocalAgent;
  beforeAll(async () => {
    agent = await startLocalAgent({
      port: 0,
      log: false,
      apiKeys: ['good-key', { key: 'support-only-key', agentIds: ['support'] }],
      agentIds: ['demo', 'support'],
      maxConnections: 2,
    });
  });
  afterAll(() => agent.close());

  test('a key that is not on the list gets 1003', async () => {
    const { error, closed } = await firstFrame(`${agent.url}/demo`, { type: 'setup', apiKey: 'wrong-key' });
    expect(error).toMatchObject({ type: 'error', code: 1003 });
    expect(closed.code).toBe(1008);
  });

  test('a missing key still gets 1001', async () => {
    const { error } = await firstFrame(`${agent.url}/demo`, { type: 'setup' });
    expect(error.code).toBe(1001);
  });

  test('a key granted to another agent gets 4401', async () => {
    const { error, closed } = await firstFrame(`${agent.url}/demo`, {
      type: 'setup',
      apiKey: 'support-only-key',
    });
    expect(error).toMatchObject({ type: 'error', code: 4401 });
    expect(closed.code).toBe(1008);
    const ok = await connect(`${agent.url}/support`);
    ok.send({ type: 'setup', apiKey: 'support-only-key', customGreeting: '' });
    await ok.waitFor('init');
    await ok.close();
  });

  test('an agent id that is not served gets 1002', async () => {
    const { error } = await firstFrame(`${agent.url}/sales`, { type: 'setup', apiKey: 'good-key' });
    expect(error.code).toBe(1002);
  });

  test('the setup past maxConnections gets 4429; a slot frees when a session ends', async () => {
    const first = await connect(`${agent.url}/demo`);
    first.send({ type: 'setup', apiKey: 'good-key', customGreeting: '' });
    await first.waitFor('init');
    const second = await connect(`${agent.url}/demo`);
    second.send({ type: 'setup', apiKey: 'good-key', customGreeting: '' });
    await second.waitFor('init');

    const third = await firstFrame(`${agent.url}/demo`, { type: 'setup', apiKey: 'good-key' });
    expect(third.error).toMatchObject({ type: 'error', code: 4429 });
    expect(third.closed.code).toBe(1013);

    await first.close();
    // The server notices the close asynchronously: retry, as a client with backoff would, until
    // admitted (for up to 20 s: a loaded machine notices late).
    let admitted = false;
    const deadline = Date.now() + 20_000;
    while (!admitted && Date.now() < deadline) {
      const next = await connect(`${agent.url}/demo`);
      next.send({ type: 'setup', apiKey: 'good-key', customGreeting: '' });
      const answer = await Promise.race([
        next.waitFor('init').catch(() => undefined),
        next.waitFor('error').catch(() => undefined),
      ]);
      admitted = answer?.message.type === 'init';
      await next.close();
      if (!admitted) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(admitted).toBe(true);
    await second.close();
  });
});

describe('plain HTTP', () => {
  test('GET /health answers JSON and GET / says how to connect', async () => {
    const agent = await startLocalAgent({ port: 0, log: false });
    try {
      const httpBase = agent.url.replace('ws://', 'http://').replace('/v1/talk', '');
      const health = await fetch(`${httpBase}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('access-control-allow-origin')).toBe('*');
      expect(await health.json()).toMatchObject({ ok: true, sessions: 0 });
      const home = await fetch(`${httpBase}/`);
      expect(await home.text()).toContain(`${agent.url}/<agentId>`);
      expect((await fetch(`${httpBase}/nope`)).status).toBe(404);
      const plain = await fetch(`${httpBase}/v1/talk/demo`);
      expect(plain.status).toBe(426);
      expect(await plain.text()).toContain('WebSocket');
      expect(agent.url).toBe(`ws://127.0.0.1:${agent.port}/v1/talk`);
    } finally {
      await agent.close();
    }
  });

  test('close() ends live sessions and frees the port', async () => {
    const agent = await startLocalAgent({ port: 0, log: false });
    const client = await connect(`${agent.url}/demo`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.waitFor('init');
    await agent.close();
    expect((await client.closed).code).toBe(1001);
    await expect(connect(`${agent.url}/demo`)).rejects.toThrow();
  });
});

describe('serving on an existing HTTP server', () => {
  test('the agent takes /v1/talk upgrades only, and close() leaves the server to its owner', async () => {
    const { createServer } = await import('node:http');
    const { WebSocketServer } = await import('ws');
    const server = createServer((_request, response) => response.end('owner'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Another WebSocket service on the same server, on another path.
    const other = new WebSocketServer({ noServer: true });
    server.on('upgrade', (request, socket, head) => {
      if (request.url === '/other')
        other.handleUpgrade(request, socket, head, (ws) => ws.send('other service'));
    });
    const agent = await startLocalAgent({ server, log: false });
    try {
      const port = (server.address() as { port: number }).port;
      expect(agent.port).toBe(port);
      expect(agent.url).toBe(`ws://127.0.0.1:${port}/v1/talk`);
      const client = await connect(`${agent.url}/shared`);
      client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
      await client.waitFor('init');
      const otherClient = await connect(`ws://127.0.0.1:${port}/other`);
      await expect.poll(() => otherClient.raw).toEqual(['other service']);
      await otherClient.close();
      await agent.close();
      expect((await client.closed).code).toBe(1001);
      // The owner's server still answers.
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('owner');
    } finally {
      await agent.close();
      other.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
