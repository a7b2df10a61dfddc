import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRelay,
  createSessionToken,
  memoryStore,
  type Relay,
  sessionTokenId,
} from '../../src/relay/index.ts';
import { connectClient, startRecordingUpstream, until } from './helpers.ts';

// What operators see: /health, /metrics, draining, revocation, single use — on one instance.

const apiKey = 'ops-real-key';
const secret = 'ops-secret';
const agentId = 'ops-agent';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function token(overrides: Partial<Parameters<typeof createSessionToken>[0]> = {}): string {
  return createSessionToken({ secret, agentId, ttlSeconds: 60, ...overrides });
}

/** A relay on a plain HTTP server that also answers /health and /metrics through `handleRequest`. */
async function serve(options: { metrics?: boolean; maxSessionsPerAgent?: number } = {}) {
  const upstream = await startRecordingUpstream();
  cleanups.push(() => upstream.close());
  const relay: Relay = createRelay({ upstream: upstream.url, apiKey, secret, log: false, ...options });
  const server = createServer((req, res) => {
    if (!relay.handleRequest(req, res)) res.writeHead(404).end();
  });
  relay.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await relay.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { relay, upstream, http: `http://127.0.0.1:${port}`, base: `ws://127.0.0.1:${port}/v1/talk` };
}

/** Parses the Prometheus text format into `name{labels}` → value, checking every line's shape. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-z_]+(?:\{[a-z_]+="[^"]*"\})?) (-?[0-9.e+-]+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('is off unless asked for', async () => {
    const { http } = await serve();
    expect((await fetch(`${http}/metrics`)).status).toBe(404);
  });

  it('counts sessions, refusals by reason, bytes and frames each way, upstream connects and dropped audio', async () => {
    const { http, base, upstream } = await serve({ metrics: true });
    const client = connectClient(`${base}/${agentId}?token=${token()}`);
    await client.opened;
    const setup = JSON.stringify({ type: 'setup', inputEncoding: 'mulaw', inputSampleRate: 8000 });
    client.socket.send(setup);
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === 1);
    const reply = JSON.stringify({ type: 'init', conversationId: 'c1' });
    connection.socket.send(reply);
    await client.waitForMessages(1);
    // 2 s of μ-law at once: twice real time with a 1 s burst allows 16000 bytes, the rest is dropped.
    const frame = JSON.stringify({ type: 'audioIn', data: Buffer.alloc(1600, 0xff).toString('base64') });
    for (let i = 0; i < 20; i++) client.socket.send(frame);
    await until(() => connection.received.length >= 11);
    expect((await connectClient(`${base}/${agentId}?token=not-a-token`).closed).code).toBe(4401);
    expect((await connectClient(`${base}/${agentId}`).closed).code).toBe(4401);

    const response = await fetch(`${http}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(await response.text());
    expect(m.get('voicewire_relay_sessions_open')).toBe(1);
    expect(m.get('voicewire_relay_sessions_opened_total')).toBe(1);
    expect(m.get('voicewire_relay_sessions_refused_total{reason="token-missing"}')).toBe(1);
    expect(m.get('voicewire_relay_sessions_refused_total{reason="token-malformed"}')).toBe(1);
    expect(m.get('voicewire_relay_frames_total{direction="client_to_agent"}')).toBe(21);
    expect(m.get('voicewire_relay_bytes_total{direction="client_to_agent"}')).toBe(
      Buffer.byteLength(setup) + 20 * Buffer.byteLength(frame),
    );
    expect(m.get('voicewire_relay_frames_total{direction="agent_to_client"}')).toBe(1);
    expect(m.get('voicewire_relay_bytes_total{direction="agent_to_client"}')).toBe(Buffer.byteLength(reply));
    expect(m.get('voicewire_relay_audio_frames_dropped_total')).toBe(20 - (connection.received.length - 1));
    expect(m.get('voicewire_relay_audio_frames_dropped_total')).toBeGreaterThanOrEqual(8);
    expect(m.get('voicewire_relay_upstream_connect_seconds_count')).toBe(1);
    expect(m.get('voicewire_relay_upstream_connect_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(m.get('voicewire_relay_upstream_connect_seconds_sum')).toBeGreaterThan(0);
    expect(m.get('voicewire_relay_store_up{store="memory"}')).toBe(1);
    expect(m.get('voicewire_relay_draining')).toBe(0);
    client.socket.close();
  });
});

describe('draining', () => {
  it('close({ drainMs }): /health turns 503, new sessions are refused, live ones go on until they end', async () => {
    const { relay, http, base, upstream } = await serve({ metrics: true });
    expect(await (await fetch(`${http}/health`)).json()).toEqual({
      status: 'ok',
      draining: false,
      sessions: 0,
      store: 'memory',
      storeAvailable: true,
    });
    const client = connectClient(`${base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === 1);

    const closing = relay.close({ drainMs: 30_000 });
    expect(relay.draining).toBe(true);
    const health = await fetch(`${http}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'draining', sessions: 1 });
    // New sessions: refused before any upgrade.
    const late = connectClient(`${base}/${agentId}?token=${token()}`);
    await expect(late.opened).rejects.toThrow();
    // The live session still relays both ways.
    client.socket.send(JSON.stringify({ type: 'audioIn', data: 'AAAA' }));
    await until(() => connection.received.length === 2);
    connection.socket.send(JSON.stringify({ type: 'audioStream', data: 'AAAA' }));
    await client.waitForMessages(1);
    // It ends by itself, and close() resolves without waiting out the 30 s.
    client.socket.close(1000);
    await closing;
    expect((await connection.closed).code).toBe(1000);
    expect(relay.metrics()).toMatch(/^voicewire_relay_sessions_refused_total\{reason="draining"\} 1$/m);
  });

  it('closes what is still open when drainMs runs out, with 1001 (going away) so the browser reconnects elsewhere', async () => {
    const { relay, base, upstream } = await serve();
    const client = connectClient(`${base}/${agentId}?token=${token()}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup' }));
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === 1);
    await relay.close({ drainMs: 200 });
    expect(await client.closed).toEqual({ code: 1001, reason: 'relay shutting down' });
    expect((await connection.closed).code).toBe(1001);
  });
});

describe('token ids, single use, revocation and per-agent limits (memory store)', () => {
  it('revokeToken closes the live sessions of that id with 4401 and refuses it from then on', async () => {
    const { relay, base, upstream } = await serve();
    const revoked = token({ id: 'user-7' });
    const other = token();
    const victim = connectClient(`${base}/${agentId}?token=${revoked}`);
    const bystander = connectClient(`${base}/${agentId}?token=${other}`);
    await Promise.all([victim.opened, bystander.opened]);
    await Promise.all([upstream.nextConnection(), upstream.nextConnection()]);
    await relay.revokeToken(sessionTokenId(revoked) as string);
    expect((await victim.closed).code).toBe(4401);
    expect(JSON.parse(victim.messages.at(-1) as string)).toMatchObject({
      type: 'error',
      code: 4401,
      isFatal: true,
    });
    await until(() => relay.sessionCount === 1);
    const again = connectClient(`${base}/${agentId}?token=${revoked}`);
    expect((await again.closed).code).toBe(4401);
    expect(JSON.parse(again.messages[0] as string).message).toMatch(/revoked/);
    bystander.socket.close();
  });

  it('a single-use token opens one session; its replay is refused with 4401', async () => {
    const { base } = await serve();
    const once = token({ singleUse: true });
    const first = connectClient(`${base}/${agentId}?token=${once}`);
    await first.opened;
    const replay = connectClient(`${base}/${agentId}?token=${once}`);
    expect((await replay.closed).code).toBe(4401);
    expect(JSON.parse(replay.messages[0] as string).message).toMatch(/already used/);
    first.socket.close();
  });

  it('maxSessionsPerAgent caps one agent across tokens (4429), not the others', async () => {
    const { base } = await serve({ maxSessionsPerAgent: 1 });
    const first = connectClient(`${base}/${agentId}?token=${token()}`);
    await first.opened;
    const second = connectClient(`${base}/${agentId}?token=${token()}`);
    expect((await second.closed).code).toBe(4429);
    expect(JSON.parse(second.messages[0] as string).message).toMatch(/this agent/);
    const elsewhere = connectClient(`${base}/other-agent?token=${token({ agentId: 'other-agent' })}`);
    await elsewhere.opened;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(elsewhere.socket.readyState).toBe(elsewhere.socket.OPEN);
    first.socket.close();
    elsewhere.socket.close();
  });

  it('a live session keeps its lease past leaseTtlMs (renewed), and gives it back when it ends', async () => {
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    const store = memoryStore();
    const relay = createRelay({
      upstream: upstream.url,
      apiKey,
      secret,
      store,
      log: false,
      leaseTtlMs: 1000,
      maxSessionsPerToken: 1,
    });
    const server = createServer();
    relay.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await relay.close();
      server.closeAllConnections();
      server.close();
    });
    const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/talk`;
    const shared = token();
    const first = connectClient(`${base}/${agentId}?token=${shared}`);
    await first.opened;
    await upstream.nextConnection();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await connectClient(`${base}/${agentId}?token=${shared}`).closed).code).toBe(4429);
    first.socket.close();
    await until(() => relay.sessionCount === 0);
    const again = connectClient(`${base}/${agentId}?token=${shared}`);
    await again.opened;
    await upstream.nextConnection();
    again.socket.close();
  });

  it('a store passed in is shared and left open by close()', async () => {
    const store = memoryStore();
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    const relay = createRelay({ upstream: upstream.url, apiKey, secret, store, log: false });
    await relay.close();
    await expect(
      store.acquire({
        leaseId: 'x',
        tokenId: 't',
        agentId,
        maxPerToken: 1,
        maxPerAgent: 0,
        singleUse: false,
        ttlMs: 1000,
        tokenTtlMs: 1000,
      }),
    ).resolves.toEqual({ ok: true });
  });
});
