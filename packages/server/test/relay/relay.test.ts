import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { createRelay, createSessionToken } from '../../src/relay/index.ts';
import { connectClient, startRecordingUpstream, startRelay, until } from './helpers.ts';

const apiKey = 'real-key-0123456789';
const secret = 'relay-secret-abcdef';
const agentId = 'Agent-test';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<Parameters<typeof createRelay>[0]> = {}) {
  const upstream = await startRecordingUpstream();
  cleanups.push(() => upstream.close());
  const relay = await startRelay({ upstream: upstream.url, apiKey, secret, ...options });
  cleanups.push(() => relay.close());
  return { upstream, relay };
}

function token(overrides: Partial<Parameters<typeof createSessionToken>[0]> = {}) {
  return createSessionToken({ secret, agentId, ttlSeconds: 60, ...overrides });
}

function audioIn(bytes: number, fill = 0): string {
  return JSON.stringify({ type: 'audioIn', data: Buffer.alloc(bytes, fill).toString('base64') });
}

describe('relay refusals (4401 / 4429): an error message the browser can read, then a close', () => {
  const cases: [string, () => string, { origin?: string }?][] = [
    ['no token', () => `/${agentId}`],
    ['an empty token', () => `/${agentId}?token=`],
    ['an expired token', () => `/${agentId}?token=${token({ now: Date.now() - 120_000, ttlSeconds: 60 })}`],
    [
      'a tampered token',
      () => {
        const [body, sig] = token().split('.') as [string, string];
        const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
        payload.exp += 3600;
        return `/${agentId}?token=${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
      },
    ],
    [
      'a token signed with another secret',
      () => `/${agentId}?token=${createSessionToken({ secret: 'nope', agentId })}`,
    ],
    ['a token for another agent', () => `/${agentId}?token=${token({ agentId: 'Agent-other' })}`],
    [
      'a token bound to another origin',
      () => `/${agentId}?token=${token({ origin: 'https://good.example' })}`,
      { origin: 'https://evil.example' },
    ],
  ];

  for (const [name, path, clientOptions] of cases) {
    it(`refuses ${name}`, async () => {
      const { upstream, relay } = await setup();
      const client = connectClient(relay.base + path(), clientOptions);
      const closed = await client.closed;
      expect(closed.code).toBe(4401);
      expect(client.messages).toHaveLength(1);
      const error = JSON.parse(client.messages[0] as string);
      expect(error).toMatchObject({ type: 'error', code: 4401, isFatal: true });
      expect(error.message).toMatch(/unauthorized/i);
      // Nothing reached the agent.
      expect(upstream.connections).toHaveLength(0);
    });
  }

  it('refuses an origin that is not allowed, and a request with no origin at all', async () => {
    const { upstream, relay } = await setup({ allowedOrigins: ['https://good.example'] });
    const evil = connectClient(`${relay.base}/${agentId}?token=${token()}`, {
      origin: 'https://evil.example',
    });
    expect((await evil.closed).code).toBe(4401);
    expect(JSON.parse(evil.messages[0] as string)).toMatchObject({ type: 'error', code: 4401 });
    const none = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    expect((await none.closed).code).toBe(4401);
    expect(upstream.connections).toHaveLength(0);

    const good = connectClient(
      `${relay.base}/${agentId}?token=${token({ origin: 'https://good.example' })}`,
      {
        origin: 'https://good.example',
      },
    );
    await good.opened;
    const connection = await upstream.nextConnection();
    expect(connection.path).toBe(`/v1/talk/${agentId}`);
    good.socket.close(1000);
    await good.closed;
  });

  it('refuses sessions over maxSessionsPerToken with 4429 and accepts again once one ends', async () => {
    const { upstream, relay } = await setup({ maxSessionsPerToken: 1 });
    const shared = token();
    const first = connectClient(`${relay.base}/${agentId}?token=${shared}`);
    await first.opened;
    await upstream.nextConnection();
    const second = connectClient(`${relay.base}/${agentId}?token=${shared}`);
    expect((await second.closed).code).toBe(4429);
    expect(JSON.parse(second.messages[0] as string)).toMatchObject({
      type: 'error',
      code: 4429,
      isFatal: false,
    });
    // Another token is not affected.
    const other = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await other.opened;
    await upstream.nextConnection();

    first.socket.close(1000);
    await first.closed;
    await until(() => relay.relay.sessionCount === 1);
    const third = connectClient(`${relay.base}/${agentId}?token=${shared}`);
    await third.opened;
    await upstream.nextConnection();
    expect(relay.relay.sessionCount).toBe(2);
    third.socket.close();
    other.socket.close();
    await Promise.all([third.closed, other.closed]);
  });
});

describe('relay pass-through', () => {
  it('injects the real key into setup, replacing what the browser sent, and keeps every other field', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    const setupMessage = {
      type: 'setup',
      apiKey: 'browser-fake-key',
      outputFormat: 'wav',
      outputSampleRate: 24000,
      inputEncoding: 'linear16',
      inputSampleRate: 16000,
      customGreeting: 'Héllo — «ünïcode» 👋',
      prompt: 'be brief',
      continueConversation: 'conv-42',
    };
    client.socket.send(JSON.stringify(setupMessage));
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === 1);
    const forwarded = JSON.parse(connection.received[0] as string);
    expect(forwarded).toEqual({ ...setupMessage, apiKey });

    // A setup with no key at all gets one too.
    const second = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await second.opened;
    second.socket.send(JSON.stringify({ type: 'setup' }));
    const connection2 = await upstream.nextConnection();
    await until(() => connection2.received.length === 1);
    expect(JSON.parse(connection2.received[0] as string)).toEqual({ type: 'setup', apiKey });
    client.socket.close();
    second.socket.close();
    await Promise.all([client.closed, second.closed]);
  });

  it('forwards client messages sent before the agent socket opened, unchanged and in order', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    const sent: string[] = [
      JSON.stringify({ type: 'setup', inputEncoding: 'linear16', inputSampleRate: 16000 }),
    ];
    for (let i = 0; i < 40; i++) sent.push(audioIn(640, i));
    sent.push(JSON.stringify({ type: 'customInput', data: 'hello there' }));
    sent.push('{"type": "audioIn",   "data": "AAAA"}');
    sent.push('not json at all');
    // All at once, in the same tick as the open: the agent socket cannot be open yet.
    for (const message of sent) client.socket.send(message);
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === sent.length);
    expect(connection.received.slice(1)).toEqual(sent.slice(1));
    client.socket.close();
    await client.closed;
  });

  it('passes every agent message to the browser unchanged and in order', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    const sent = [
      JSON.stringify({ type: 'init', conversationId: 'c1', agentOwnerId: 'o' }),
      JSON.stringify({ type: 'newAudioStream' }),
      ...Array.from({ length: 100 }, (_, i) =>
        JSON.stringify({ type: 'audioStream', data: Buffer.alloc(1200, i).toString('base64') }),
      ),
      '{"type":"weird","x":[1,2,3]}',
      'garbage that is not json',
      JSON.stringify({ type: 'onAgentTranscript', message: 'ça va? 😀' }),
    ];
    for (const message of sent) connection.socket.send(message);
    await client.waitForMessages(sent.length);
    expect(client.messages).toEqual(sent);
    client.socket.close();
    await client.closed;
  });

  it('never puts the API key on the browser side of the relay', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    connection.socket.send(JSON.stringify({ type: 'init', conversationId: 'c' }));
    await client.waitForMessages(1);
    expect(client.messages.join('')).not.toContain(apiKey);
    client.socket.close();
    await client.closed;
  });
});

describe('relay limits', () => {
  it('answers a message over maxMessageBytes with a 4400 error and closes both sides', async () => {
    const { upstream, relay } = await setup({ maxMessageBytes: 4096 });
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    client.socket.send(audioIn(500));
    await until(() => connection.received.length === 2);
    client.socket.send(JSON.stringify({ type: 'customInput', data: 'x'.repeat(5000) }));
    const closed = await client.closed;
    expect(closed.code).toBe(4400);
    expect(JSON.parse(client.messages.at(-1) as string)).toMatchObject({
      type: 'error',
      code: 4400,
      isFatal: true,
    });
    expect((await connection.closed).code).toBe(4400);
    // The oversized message itself never reached the agent.
    expect(connection.received).toHaveLength(2);
    expect(relay.logs.some((entry) => entry.event === 'message-too-large')).toBe(true);
  });

  it('caps audioIn at twice real time: a flood is cut to the burst allowance, real-time audio flows', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    // linear16 at 16 kHz: 32,000 bytes per second of real time; the cap is 64,000 B/s with a
    // one-second bucket at that rate, i.e. 100 frames of 20 ms (640 bytes) in a burst.
    client.socket.send(JSON.stringify({ type: 'setup', inputEncoding: 'linear16', inputSampleRate: 16000 }));
    const connection = await upstream.nextConnection();
    const flood = 500; // ten seconds of audio, sent at once
    for (let i = 0; i < flood; i++) client.socket.send(audioIn(640));
    client.socket.send(JSON.stringify({ type: 'customInput', data: 'marker' }));
    await until(() => connection.received.at(-1)?.includes('marker') === true);
    const passed = connection.received.filter((m) => m.includes('audioIn')).length;
    expect(passed).toBeGreaterThanOrEqual(100);
    // Generous: the bucket refills at 100 frames/s while the flood is being read.
    expect(passed).toBeLessThan(250);
    expect(relay.logs.some((entry) => entry.event === 'audio-rate-exceeded' && entry.level === 'warn')).toBe(
      true,
    );
    // The customInput was never subject to the audio cap.
    expect(connection.received.at(-1)).toBe(JSON.stringify({ type: 'customInput', data: 'marker' }));

    // After a pause of half a second the bucket holds at least 50 frames again: all of them pass.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const before = connection.received.length;
    for (let i = 0; i < 50; i++) client.socket.send(audioIn(640, 7));
    await until(() => connection.received.length === before + 50);
    client.socket.close();
    await client.closed;
  });

  it('uses the encoding for the cap: mulaw 8 kHz allows 16,000 bytes per second', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup', inputEncoding: 'mulaw', inputSampleRate: 8000 }));
    const connection = await upstream.nextConnection();
    // 160-byte frames (20 ms of 8 kHz mulaw): the burst allowance is 100 of them.
    for (let i = 0; i < 400; i++) client.socket.send(audioIn(160));
    client.socket.send(JSON.stringify({ type: 'customInput', data: 'marker' }));
    await until(() => connection.received.at(-1)?.includes('marker') === true);
    const passed = connection.received.filter((m) => m.includes('audioIn')).length;
    expect(passed).toBeGreaterThanOrEqual(100);
    expect(passed).toBeLessThan(200);
    client.socket.close();
    await client.closed;
  });

  it('closes idle sessions on both sides', async () => {
    const { upstream, relay } = await setup({ idleTimeoutMs: 200 });
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    const connection = await upstream.nextConnection();
    const [clientClosed, upstreamClosed] = await Promise.all([client.closed, connection.closed]);
    expect(clientClosed).toEqual({ code: 1000, reason: 'idle timeout' });
    expect(upstreamClosed.code).toBe(1000);
    await until(() => relay.relay.sessionCount === 0);
  });

  it('keeps a session with traffic alive past the idle timeout', async () => {
    // A frame every 100 ms for 2.5 s, 2.5 times the idle timeout: a timer that fires late on a
    // loaded machine still leaves the gaps far below it.
    const { upstream, relay } = await setup({ idleTimeoutMs: 1000 });
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    for (let i = 0; i < 25; i++) {
      client.socket.send(audioIn(64));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    await until(() => connection.received.length === 26);
    client.socket.close();
    await client.closed;
  });
});

describe('relay close propagation', () => {
  it('closes the agent side with the browser code and reason', async () => {
    const { upstream, relay } = await setup();
    for (const code of [1000, 4000, 4999]) {
      const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
      await client.opened;
      const connection = await upstream.nextConnection();
      client.socket.close(code, `bye ${code}`);
      expect(await connection.closed).toEqual({ code, reason: `bye ${code}` });
    }
    await until(() => relay.relay.sessionCount === 0);
  });

  it('closes the browser side with the agent code and reason', async () => {
    const { upstream, relay } = await setup();
    for (const code of [1000, 4400, 4500]) {
      const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
      await client.opened;
      const connection = await upstream.nextConnection();
      connection.socket.close(code, `agent ${code}`);
      expect(await client.closed).toEqual({ code, reason: `agent ${code}` });
    }
    await until(() => relay.relay.sessionCount === 0);
  });

  it('drops the browser when the agent drops (1006), so the client reconnects as it would directly', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    const connection = await upstream.nextConnection();
    connection.socket.terminate();
    expect((await client.closed).code).toBe(1006);
    await until(() => relay.relay.sessionCount === 0);
  });

  it('closes the agent side when the browser drops', async () => {
    const { upstream, relay } = await setup();
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    const connection = await upstream.nextConnection();
    client.socket.terminate();
    expect((await connection.closed).code).toBe(1006);
    await until(() => relay.relay.sessionCount === 0);
  });

  it('tells the browser with a retryable 4500 when the agent service is unreachable', async () => {
    const dead = createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const relay = await startRelay({ upstream: `ws://127.0.0.1:${port}/v1/talk`, apiKey, secret });
    cleanups.push(() => relay.close());
    const client = connectClient(`${relay.base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const closed = await client.closed;
    expect(closed.code).toBe(1011);
    expect(JSON.parse(client.messages[0] as string)).toMatchObject({
      type: 'error',
      code: 4500,
      isFatal: false,
    });
    expect(relay.relay.sessionCount).toBe(0);
  });

  it('close() ends every session with 1001 (going away: reconnect), both ways', async () => {
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    const relay = await startRelay({ upstream: upstream.url, apiKey, secret });
    const clients = [0, 1, 2].map(() => connectClient(`${relay.base}/${agentId}?token=${token()}`));
    await Promise.all(clients.map((c) => c.opened));
    for (const client of clients) client.socket.send(JSON.stringify({ type: 'setup' }));
    const connections = await Promise.all(clients.map(() => upstream.nextConnection()));
    // Both legs are open once the agent has the setup.
    await until(() => connections.every((c) => c.received.length === 1));
    await relay.close();
    for (const client of clients) expect((await client.closed).code).toBe(1001);
    for (const connection of connections) expect((await connection.closed).code).toBe(1001);
    expect(relay.relay.sessionCount).toBe(0);
  });
});

describe('relay mounting', () => {
  it('leaves upgrades on other paths to other listeners (handleUpgrade returns false)', async () => {
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    const relay = createRelay({ upstream: upstream.url, apiKey, secret, log: false });
    const server = createServer();
    const foreign: string[] = [];
    server.on('upgrade', (req, socket, head) => {
      if (relay.handleUpgrade(req, socket, head)) return;
      foreign.push(req.url ?? '');
      socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const other = new WebSocket(`ws://127.0.0.1:${port}/somewhere/else`);
    const status = await new Promise<number>((resolve) => {
      other.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      other.on('error', () => {});
    });
    expect(status).toBe(418);
    expect(foreign).toEqual(['/somewhere/else']);

    const client = connectClient(`ws://127.0.0.1:${port}/v1/talk/${agentId}?token=${token()}`);
    await client.opened;
    await upstream.nextConnection();
    client.socket.close();
    await client.closed;
  });

  it('answers 404 on a foreign path when it is the only upgrade listener', async () => {
    const { relay } = await setup();
    const other = new WebSocket(relay.base.replace('/v1/talk', '/nope'));
    const status = await new Promise<number>((resolve) => {
      other.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      other.on('error', () => {});
    });
    expect(status).toBe(404);
  });
});

describe('relay logging', () => {
  it('never logs the API key, the secret or a token, on any path', async () => {
    const consoleSpies = [vi.spyOn(console, 'log'), vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')];
    consoleSpies.forEach((spy) => {
      spy.mockImplementation(() => {});
    });
    cleanups.push(() => {
      for (const spy of consoleSpies) spy.mockRestore();
    });
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    // Once with the default console logger, once with a captured one.
    const lines: string[] = [];
    const relays = [
      createRelay({ upstream: upstream.url, apiKey, secret, maxMessageBytes: 2048, maxSessionsPerToken: 1 }),
      createRelay({
        upstream: upstream.url,
        apiKey,
        secret,
        maxMessageBytes: 2048,
        maxSessionsPerToken: 1,
        allowedOrigins: ['https://ok.example'],
        log: (entry) => lines.push(JSON.stringify(entry)),
      }),
    ];
    const tokens: string[] = [];
    for (const relay of relays) {
      const server = createServer();
      relay.attach(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/talk`;
      const origin = 'https://ok.example';
      const good = token({ origin });
      const expired = token({ now: Date.now() - 600_000 });
      const wrongAgent = token({ agentId: 'other' });
      tokens.push(good, expired, wrongAgent);
      const clients = [
        connectClient(`${base}/${agentId}?token=${expired}`, { origin }),
        connectClient(`${base}/${agentId}?token=${wrongAgent}`, { origin }),
        connectClient(`${base}/${agentId}?token=${good.slice(0, -2)}xx`, { origin }),
        connectClient(`${base}/${agentId}?token=${good}`, { origin: 'https://bad.example' }),
      ];
      await Promise.all(clients.map((c) => c.closed));
      const session = connectClient(`${base}/${agentId}?token=${good}`, { origin });
      await session.opened;
      session.socket.send(
        JSON.stringify({
          type: 'setup',
          apiKey: 'browser-side',
          inputEncoding: 'linear16',
          inputSampleRate: 16000,
        }),
      );
      const connection = await upstream.nextConnection();
      const twice = connectClient(`${base}/${agentId}?token=${good}`, { origin });
      await twice.closed;
      for (let i = 0; i < 300; i++) session.socket.send(audioIn(600));
      connection.socket.send(JSON.stringify({ type: 'error', code: 4500, message: 'boom' }));
      session.socket.send(JSON.stringify({ type: 'customInput', data: 'y'.repeat(3000) }));
      await session.closed;
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    for (const spy of consoleSpies) {
      for (const call of spy.mock.calls) lines.push(call.map(String).join(' '));
    }
    // Every kind of entry was produced, so the check below covers them.
    const all = lines.join('\n');
    for (const event of [
      'session-open',
      'session-refused',
      'session-close',
      'message-too-large',
      'audio-rate-exceeded',
    ]) {
      expect(all).toContain(event);
    }
    expect(consoleSpies[0]?.mock.calls.length).toBeGreaterThan(0);
    expect(all).not.toContain(apiKey);
    expect(all).not.toContain(secret);
    for (const t of tokens) {
      expect(all).not.toContain(t);
      expect(all).not.toContain(t.split('.')[1]);
    }
  });
});
