import { afterEach, describe, expect, it } from 'vitest';
import { createSessionToken, type RelayProviderName, redisStore } from '../../src/relay/index.ts';
import { startRelay } from './helpers.ts';
import { startRedisServer } from './processes.ts';
import { connectBrowser, startVendor } from './vendors.ts';

// Relays for several providers on one real Redis (Debian's redis-server on a free loopback port):
// limits hold across instances per provider and target, and providers do not count each other.

const apiKey = 'redis-provider-key';
const secret = 'redis-provider-secret';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('per-target limits and single use across instances, per provider', () => {
  it('counts sessions per provider and target in Redis; a spent single-use token is spent everywhere', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const vendor = await startVendor();
    cleanups.push(() => vendor.close());
    const instance = async (provider: RelayProviderName) => {
      const store = redisStore({ url: redis.url, prefix: 'providers:', commandTimeoutMs: 1000 });
      const upstream = provider === 'playai' ? `${vendor.origin}/v1/talk` : vendor.origin;
      const relay = await startRelay({ provider, upstream, apiKey, secret, store, maxSessionsPerAgent: 1 });
      cleanups.push(async () => {
        await relay.close();
        await store.close();
      });
      return relay.base.replace(/\/v1\/talk$/, '');
    };
    const [openaiA, openaiB, playai] = [
      await instance('openai'),
      await instance('openai'),
      await instance('playai'),
    ];
    const t = () => createSessionToken({ secret, target: null });

    const first = connectBrowser(`${openaiA}/v1/realtime?model=m&token=${t()}`);
    await first.opened;
    await vendor.nextConnection();
    // The same model on the other instance: over the limit of one.
    const second = connectBrowser(`${openaiB}/v1/realtime?model=m&token=${t()}`);
    expect((await second.closed).code).toBe(4429);
    // Another model, and a PlayAI agent that happens to be called "m", are other targets.
    const other = connectBrowser(`${openaiB}/v1/realtime?model=m2&token=${t()}`);
    await other.opened;
    await vendor.nextConnection();
    const agent = connectBrowser(`${playai}/v1/talk/m?token=${createSessionToken({ secret, agentId: 'm' })}`);
    await agent.opened;
    await vendor.nextConnection();

    const once = createSessionToken({ secret, target: 'm3', singleUse: true });
    const used = connectBrowser(`${openaiA}/v1/realtime?model=m3&token=${once}`);
    await used.opened;
    await vendor.nextConnection();
    used.socket.close();
    await used.closed;
    const replay = connectBrowser(`${openaiB}/v1/realtime?model=m3&token=${once}`);
    expect(await replay.closed).toEqual({
      code: 4401,
      reason: 'Unauthorized: the session token was already used',
    });
    expect(JSON.parse(replay.texts()[0] as string)).toMatchObject({
      type: 'error',
      error: { code: 'relay_unauthorized' },
    });

    // The first session ends: its lease is released, and the model opens on the other instance.
    first.socket.close();
    await first.closed;
    const relayed = async () => {
      const before = vendor.connections.length;
      const retry = connectBrowser(`${openaiB}/v1/realtime?model=m&token=${t()}`);
      cleanups.push(() => retry.socket.terminate());
      // Refusals come after the socket opens: relayed means the vendor got a connection.
      return Promise.race([
        retry.closed.then(({ code }) => `closed ${code}`),
        expect
          .poll(() => vendor.connections.length, { timeout: 10_000 })
          .toBeGreaterThan(before)
          .then(() => 'relayed'),
      ]);
    };
    await expect.poll(relayed, { timeout: 15_000 }).toBe('relayed');
    for (const browser of [other, agent]) browser.socket.close();
  });
});
