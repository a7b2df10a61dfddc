import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRelay,
  createSessionToken,
  type Relay,
  redisStore,
  sessionTokenId,
} from '../../src/relay/index.ts';
import { type ClientRecording, connectClient, startRelay, until } from './helpers.ts';
import {
  killProcess,
  type RedisServer,
  startEchoUpstream,
  startRedisServer,
  startRelayProcess,
} from './processes.ts';

// Several relay instances on one real Redis (Debian's redis-server on a free loopback port).

const apiKey = 'redis-test-real-key';
const secret = 'redis-test-secret';
const agentId = 'shared-agent';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedisServer();
  cleanups.push(() => redis.stop());
});

function token(overrides: Partial<Parameters<typeof createSessionToken>[0]> = {}): string {
  return createSessionToken({ secret, agentId, ttlSeconds: 120, ...overrides });
}

type Instance = Awaited<ReturnType<typeof startRelay>>;

/** Two in-process relays, each with its own Redis connection, in front of one echo upstream. */
async function twoInstances(
  options: { maxSessionsPerToken?: number; leaseTtlMs?: number; metrics?: boolean } = {},
): Promise<[Instance, Instance]> {
  const upstream = await startEchoUpstream();
  cleanups.push(() => upstream.close());
  const start = async () => {
    const store = redisStore({ url: redis.url, prefix: 'test:', commandTimeoutMs: 1000 });
    const instance = await startRelay({ upstream: upstream.url, apiKey, secret, store, ...options });
    cleanups.push(async () => {
      await instance.close();
      await store.close();
    });
    return instance;
  };
  return [await start(), await start()];
}

/** Connects and sends setup; resolves with the client once `init` arrives (the session is live). */
async function openSession(base: string, tokenValue: string): Promise<ClientRecording> {
  const client = connectClient(`${base}/${agentId}?token=${tokenValue}`);
  cleanups.push(() => client.socket.terminate());
  await client.opened;
  client.socket.send(JSON.stringify({ type: 'setup', apiKey: 'nothing' }));
  const init = await client.waitFor((m) => m.type === 'init' || m.type === 'error');
  if (init.type !== 'init') throw new Error(`session refused: ${JSON.stringify(init)}`);
  expect(init.apiKey).toBe(apiKey);
  return client;
}

/** Connects and expects a refusal: resolves with the error message and the close code. */
async function refused(base: string, tokenValue: string) {
  const client = connectClient(`${base}/${agentId}?token=${tokenValue}`);
  cleanups.push(() => client.socket.terminate());
  const error = await client.waitFor((m) => m.type === 'error');
  const closed = await client.closed;
  return { error, code: closed.code };
}

/** The session still relays both ways: a message goes up and the upstream's answer comes back. */
async function stillRelays(client: ClientRecording): Promise<void> {
  const before = client.messages.length;
  client.socket.send(JSON.stringify({ type: 'ping-through' }));
  await until(() => client.messages.slice(before).some((m) => m.includes('"of":"ping-through"')));
}

describe('several relay instances sharing Redis', () => {
  it('a token limited to one session is refused on the second instance (4429), and freed when it ends', async () => {
    const [a, b] = await twoInstances({ maxSessionsPerToken: 1, leaseTtlMs: 1200 });
    const shared = token();
    const first = await openSession(a.base, shared);
    // Well past the lease TTL: the live session's lease is renewed, so it still counts.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const second = await refused(b.base, shared);
    expect(second.code).toBe(4429);
    expect(second.error).toMatchObject({ code: 4429, isFatal: false });
    // Another token is not affected.
    (await openSession(b.base, token())).socket.close();

    first.socket.close(1000);
    await until(() => a.relay.sessionCount === 0);
    // The lease is released: the same token now opens a session on the other instance.
    await until(() => a.logs.some((e) => e.event === 'session-close'));
    await stillRelays(await openSession(b.base, shared));
  });

  it('a single-use token replayed on the other instance is refused', async () => {
    const [a, b] = await twoInstances();
    const once = token({ singleUse: true });
    const first = await openSession(a.base, once);
    const replay = await refused(b.base, once);
    expect(replay.code).toBe(4401);
    expect(replay.error).toMatchObject({
      code: 4401,
      isFatal: true,
      message: expect.stringMatching(/already used/),
    });
    first.socket.close();
    await until(() => a.relay.sessionCount === 0);
    // Still spent after the first session ended, on either instance.
    expect((await refused(a.base, once)).code).toBe(4401);
    // An ordinary token may reconnect.
    const reusable = token();
    (await openSession(a.base, reusable)).socket.close();
    await until(() => a.relay.sessionCount === 0);
    (await openSession(b.base, reusable)).socket.close();
  });

  it('revocation takes effect on both instances: live sessions close with 4401, new ones are refused', async () => {
    const [a, b] = await twoInstances({ leaseTtlMs: 900 });
    const id = 'visitor-42';
    const revocable = token({ id });
    expect(sessionTokenId(revocable)).toBe(id);
    const onA = await openSession(a.base, revocable);
    const onB = await openSession(b.base, revocable);
    const bystander = await openSession(b.base, token());

    await a.relay.revokeToken(id);
    expect((await onA.closed).code).toBe(4401);
    // The other instance learns it at its next lease renewal.
    expect((await onB.closed).code).toBe(4401);
    expect(onB.messages.map((m) => JSON.parse(m))).toContainEqual(
      expect.objectContaining({ type: 'error', code: 4401, message: expect.stringMatching(/revoked/) }),
    );
    for (const instance of [a, b]) {
      const again = await refused(instance.base, revocable);
      expect(again.code).toBe(4401);
      expect(again.error.message).toMatch(/revoked/);
    }
    await stillRelays(bystander);
  });

  it('Redis stopped mid-call: live sessions go on, new ones get a clear 4503, recovery when it returns', async () => {
    const [a] = await twoInstances({ leaseTtlMs: 900, metrics: true });
    const live = await openSession(a.base, token());
    await redis.stop();

    await stillRelays(live);
    const refusal = await refused(a.base, token());
    expect(refusal.code).toBe(4503);
    expect(refusal.error).toMatchObject({
      type: 'error',
      code: 4503,
      isFatal: false,
      message: expect.stringMatching(/try again/),
    });
    const metrics = a.relay.metrics();
    expect(metrics).toMatch(/^voicewire_relay_sessions_refused_total\{reason="store-unavailable"\} 1$/m);
    expect(metrics).toMatch(/^voicewire_relay_store_up\{store="redis"\} 0$/m);
    expect(a.logs).toContainEqual(expect.objectContaining({ event: 'store-error', level: 'error' }));
    // A renewal fails while Redis is away; the session is untouched.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await stillRelays(live);

    await redis.start();
    // The store reconnects by itself; the relay needs nothing.
    await until(() => a.relay.metrics().includes('voicewire_relay_store_up{store="redis"} 1'), 30_000);
    await stillRelays(await openSession(a.base, token()));
    await stillRelays(live);
    await until(() => a.logs.some((e) => e.event === 'store-recovered'));
  });
});

describe('relay instances in their own processes', () => {
  it("killing an instance (SIGKILL) frees its sessions' leases within the lease TTL", async () => {
    const upstream = await startEchoUpstream();
    cleanups.push(() => upstream.close());
    const args = [
      '--upstream',
      upstream.url,
      '--redis',
      redis.url,
      '--max-sessions-per-token',
      '1',
      '--quiet',
    ];
    const env = { VOICEWIRE_API_KEY: apiKey, VOICEWIRE_RELAY_SECRET: secret };
    const a = await startRelayProcess([...args, '--lease-ttl-ms', '6000'], env);
    cleanups.push(() => killProcess(a));
    const b = await startRelayProcess([...args, '--lease-ttl-ms', '6000'], env);
    cleanups.push(() => killProcess(b));

    const shared = token();
    const first = await openSession(a.base, shared);
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    // Nobody released the lease: the token is still at its limit.
    expect((await refused(b.base, shared)).code).toBe(4429);
    expect((await first.closed).code).toBe(1006);

    // Once the lease's TTL has run out, the token opens a session on the surviving instance.
    let client: ClientRecording | null = null;
    while (!client) {
      try {
        client = await openSession(b.base, shared);
      } catch {
        if (Date.now() - killedAt > 15_000) throw new Error('the dead instance never released its lease');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    // Not before the TTL could have run out (its last renewal was at most a third of it before the kill).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(3900);
    await stillRelays(client);
  });
});

describe('voicewire-relay --redis / VOICEWIRE_REDIS_URL, --metrics', () => {
  it('takes the Redis URL from the environment, never prints its password, and serves /metrics', async () => {
    const upstream = await startEchoUpstream();
    cleanups.push(() => upstream.close());
    const guarded = await startRedisServer(['--requirepass', 'hunter2']);
    cleanups.push(() => guarded.stop());
    const url = `redis://:hunter2@127.0.0.1:${guarded.port}`;
    const relay = await startRelayProcess(
      ['--upstream', upstream.url, '--metrics', '--max-sessions-per-token', '1'],
      {
        VOICEWIRE_API_KEY: apiKey,
        VOICEWIRE_RELAY_SECRET: secret,
        VOICEWIRE_REDIS_URL: url,
      },
    );
    cleanups.push(() => killProcess(relay));
    expect(relay.output()).toMatch(/^session store: redis \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\)$/m);
    expect(relay.output()).not.toContain('hunter2');
    // The limit holds through the password-protected Redis.
    const shared = token();
    const live = await openSession(relay.base, shared);
    expect((await refused(relay.base, shared)).code).toBe(4429);
    live.socket.close();
    const metrics = await fetch(`http://127.0.0.1:${relay.port}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^voicewire_relay_store_up\{store="redis"\} 1$/m);
    expect(text).toMatch(/^voicewire_relay_sessions_refused_total\{reason="token-limit"\} 1$/m);
  });

  it('refuses a --redis that is not a redis:// URL', async () => {
    await expect(
      startRelayProcess(['--upstream', 'ws://127.0.0.1:9/v1/talk', '--redis', 'http://127.0.0.1:6379'], {
        VOICEWIRE_API_KEY: apiKey,
        VOICEWIRE_RELAY_SECRET: secret,
      }),
    ).rejects.toThrow(/--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  });
});

describe('a relay without a reachable Redis', () => {
  it('refuses new sessions with 4503 from the start, and /health says which store it uses', async () => {
    const upstream = await startEchoUpstream();
    cleanups.push(() => upstream.close());
    await redis.stop();
    const store = redisStore({ url: redis.url, commandTimeoutMs: 500 });
    const relay: Relay = createRelay({ upstream: upstream.url, apiKey, secret, store, log: false });
    cleanups.push(async () => {
      await relay.close();
      await store.close();
    });
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (!relay.handleRequest(req, res)) res.writeHead(404).end();
    });
    relay.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as { port: number };
    const base = `ws://127.0.0.1:${port}/v1/talk`;
    expect((await refused(base, token())).code).toBe(4503);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'redis', storeAvailable: false });
    expect(upstream.connections()).toBe(0);
  });
});
