import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type InternalErrorWatch, watchInternalErrors } from '../../../../testing/internalErrors.ts';
import { type LocalAgent, startLocalAgent } from '../../src/agent/index.ts';
import { createSessionToken } from '../../src/relay/index.ts';
import { type ClientRecording, connectClient, startRelay, until } from './helpers.ts';

/**
 * The server side under malformed input: random bytes, bad JSON, huge messages, audioIn garbage
 * before and after setup, raw TCP garbage. The agent and the relay must stay up, and a healthy
 * session running alongside must not notice.
 */

const apiKey = 'fuzz-key';
const secret = 'fuzz-secret';
const agentId = 'fuzz-agent';

let agent: LocalAgent;
let relay: Awaited<ReturnType<typeof startRelay>>;
/** The agent's log lines and the console: an exception either caught is a failure here. */
let watch: InternalErrorWatch;

beforeAll(async () => {
  watch = watchInternalErrors();
  agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: (line) => watch.log(line) });
  relay = await startRelay({ upstream: agent.url, apiKey, secret, maxMessageBytes: 256 * 1024 });
});
afterAll(async () => {
  await relay.close();
  await agent.close();
  watch.restore();
});

/** Nothing internal went wrong: no caught exception logged, no relay entry at level `error`. */
function expectNoInternalErrors(): void {
  expect(watch.lines).toEqual([]);
  expect(relay.logs.filter((entry) => entry.level === 'error')).toEqual([]);
}

function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T,
  };
}

type Random = ReturnType<typeof createRandom>;

function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = random.int(256);
  return bytes;
}

const SETUPS = [
  {
    type: 'setup',
    apiKey,
    inputEncoding: 'linear16',
    inputSampleRate: 16000,
    outputFormat: 'mulaw',
    outputSampleRate: 8000,
  },
  {
    type: 'setup',
    apiKey,
    inputEncoding: 'mulaw',
    inputSampleRate: 8000,
    outputFormat: 'raw',
    outputSampleRate: 16000,
  },
  { type: 'setup', apiKey, outputFormat: 'wav', outputSampleRate: 12345 },
  { type: 'setup', apiKey, outputFormat: 'nope' },
  { type: 'setup', apiKey, inputEncoding: 'linear16' },
  { type: 'setup', apiKey, outputSampleRate: -1 },
  { type: 'setup', apiKey, outputSampleRate: 1e12 },
  { type: 'setup', apiKey: 42 },
  { type: 'setup', apiKey, customGreeting: 'x'.repeat(20_000) },
  { type: 'setup', apiKey, prompt: { nested: true } },
  { type: 'setup', apiKey, continueConversation: 'does-not-exist' },
  { type: 'setup', apiKey, continueConversation: '../../etc/passwd' },
  { type: 'setup' },
];

function malformedFrame(random: Random): string | Buffer {
  switch (random.int(14)) {
    case 0:
      return randomBytes(random, random.int(3000));
    case 1:
      return randomBytes(random, random.int(500)).toString('latin1');
    case 2:
      return random.pick([
        '',
        '{',
        '}',
        '[]',
        'null',
        '42',
        '"setup"',
        '{"type":',
        '{"type":null}',
        '{"type":{}}',
        'NaN',
      ]);
    case 3:
      return JSON.stringify({
        type: 'audioIn',
        data: random.pick(['!!!!', 'abc', 'A', '====', '😀', 'AAAA\n']),
      });
    case 4:
      return JSON.stringify({
        type: 'audioIn',
        data: randomBytes(random, 1 + random.int(2001)).toString('base64'),
      });
    case 5:
      return JSON.stringify({ type: 'audioIn', data: random.pick([null, 5, [], {}, true]) });
    case 6:
      return JSON.stringify({ type: 'audioIn' });
    case 7:
      return JSON.stringify(random.pick(SETUPS));
    case 8:
      return JSON.stringify({
        type: 'customInput',
        data: random.pick(['', 'hi', 'x'.repeat(100_000), 7, null]),
      });
    case 9:
      return JSON.stringify({
        type: random.pick(['__proto__', 'constructor', 'toString', 'AUDIOIN', 'hangup', 'init']),
      });
    case 10:
      return `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    case 11:
      return JSON.stringify({ __proto__: { polluted: 1 }, type: 'audioIn', data: 'AAAA' }).replace(
        '"type"',
        '"__proto__":{"x":1},"type"',
      );
    case 12:
      // Silence frames that are valid: the session may be live and must take them.
      return JSON.stringify({ type: 'audioIn', data: Buffer.alloc(640).toString('base64') });
    default:
      return JSON.stringify({ type: 'audioIn', data: '' });
  }
}

function tone(): string {
  const samples = new Int16Array(320);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000));
  return JSON.stringify({ type: 'audioIn', data: Buffer.from(samples.buffer).toString('base64') });
}
const SILENCE = JSON.stringify({ type: 'audioIn', data: Buffer.alloc(640).toString('base64') });

/** A full turn on a live session: speak, get the transcript and the agent's reply. */
async function healthyTurn(client: ClientRecording) {
  const before = client.messages.length;
  for (let i = 0; i < 60; i++) client.socket.send(tone());
  for (let i = 0; i < 50; i++) client.socket.send(SILENCE);
  const isNew = (m: Record<string, unknown>) => client.messages.indexOf(JSON.stringify(m)) >= before;
  await client.waitFor((m) => m.type === 'onUserTranscript' && isNew(m), 15_000);
  await client.waitFor(
    (m) => m.type === 'onAgentTranscript' && m.message === 'Here is what I heard.' && isNew(m),
    15_000,
  );
}

async function fuzzConnections(
  url: (i: number) => string,
  seed: number,
  connections: number,
  framesEach: number,
) {
  const random = createRandom(seed);
  let sent = 0;
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const socket = new WebSocket(url(i));
      socket.on('error', () => {});
      socket.on('message', () => {});
      const opened = await Promise.race([
        once(socket, 'open').then(() => true),
        once(socket, 'close').then(() => false),
      ]);
      if (!opened) return;
      // Half the connections set up properly first, so garbage hits a live session too.
      if (i % 2 === 0) socket.send(JSON.stringify(SETUPS[0]));
      for (let f = 0; f < framesEach && socket.readyState === WebSocket.OPEN; f++) {
        const frame = malformedFrame(random);
        socket.send(frame, { binary: Buffer.isBuffer(frame) });
        sent++;
        if (f % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // A frame over the agent's 4 MB limit on some of them.
      if (i % 7 === 0 && socket.readyState === WebSocket.OPEN)
        socket.send(Buffer.alloc(5 * 1024 * 1024, 0x41));
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.terminate();
    }),
  );
  return sent;
}

/** Bytes that are not even a WebSocket handshake. */
async function rawTcpGarbage(port: number, seed: number) {
  const random = createRandom(seed);
  const payloads = [
    randomBytes(random, 4096),
    Buffer.from('GET /v1/talk/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    Buffer.from(
      'GET /v1/talk/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 99\r\n\r\n',
    ),
    Buffer.from(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\n\r\n`),
    Buffer.from('\r\n\r\n\r\n'),
  ];
  await Promise.all(
    payloads.map(
      (payload) =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(payload));
          socket.on('data', () => {});
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 2000).unref();
        }),
    ),
  );
}

async function startHealthy(url: string): Promise<ClientRecording> {
  const client = connectClient(url);
  await client.opened;
  client.socket.send(JSON.stringify(SETUPS[0]));
  await client.waitFor((m) => m.type === 'init');
  return client;
}

describe('server-side fuzzing', { timeout: 90_000 }, () => {
  it('the local agent stays up and a healthy session alongside never notices', async () => {
    const healthy = await startHealthy(`${agent.url}/${agentId}`);
    const port = Number(new URL(agent.url).port);
    const sent = await fuzzConnections(() => `${agent.url}/${agentId}`, 0xf00d, 40, 60);
    await rawTcpGarbage(port, 7);
    expect(sent).toBeGreaterThan(1000);
    // The healthy session: still open, never sent an error, and a whole turn still works.
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    await healthyTurn(healthy);
    expect(healthy.messages.map((m) => JSON.parse(m)).filter((m) => m.type === 'error')).toEqual([]);
    // New sessions are still served.
    const fresh = await startHealthy(`${agent.url}/${agentId}`);
    await healthyTurn(fresh);
    healthy.socket.close();
    fresh.socket.close();
    await Promise.all([healthy.closed, fresh.closed]);
    expectNoInternalErrors();
  });

  it('the relay stays up too, with garbage sent through it', async () => {
    const token = () => createSessionToken({ secret, agentId, ttlSeconds: 60 });
    const healthy = await startHealthy(`${relay.base}/${agentId}?token=${token()}`);
    const sent = await fuzzConnections(
      (i) => `${relay.base}/${agentId}${i % 5 === 0 ? '' : `?token=${token()}`}`,
      0xbeef,
      30,
      60,
    );
    await rawTcpGarbage(Number(new URL(relay.base).port), 9);
    expect(sent).toBeGreaterThan(500);
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    await healthyTurn(healthy);
    expect(healthy.messages.map((m) => JSON.parse(m)).filter((m) => m.type === 'error')).toEqual([]);
    healthy.socket.close();
    await healthy.closed;
    // Every fuzzing session is cleaned up (the relay hears of the last closes in its own time).
    await until(() => relay.relay.sessionCount === 0).catch(() => {});
    expect(relay.relay.sessionCount).toBe(0);
    expectNoInternalErrors();
  });
});
