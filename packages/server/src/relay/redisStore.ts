import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import {
  type Lease,
  type LeaseRefusal,
  type LeaseRequest,
  type LeaseResult,
  type RelayStore,
  StoreUnavailableError,
} from './store.ts';

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. */
  url: string;
  /** Prefix of every key, so several relays (or apps) can share one Redis. @defaultValue 'voicewire:relay:' */
  prefix?: string;
  /** A command not answered within this many milliseconds fails (and a new session is refused). @defaultValue 2000 */
  commandTimeoutMs?: number;
  /** Called with each connection error (the store reconnects by itself). */
  onError?: (error: Error) => void;
}

/** Time from Redis itself, so instances with skewed clocks agree on when a lease expires. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: token leases, agent leases, revoked flag, used flag.
 * ARGV: lease id, max per token, max per agent (0: none), single use (1/0), lease ttl, token ttl.
 */
const ACQUIRE = `${NOW}
if redis.call('EXISTS', KEYS[3]) == 1 then return 'revoked' end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then return 'token-used' end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'token-limit' end
local maxAgent = tonumber(ARGV[3])
if maxAgent > 0 and redis.call('ZCARD', KEYS[2]) >= maxAgent then return 'agent-limit' end
local ttl = tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
if ARGV[4] == '1' then redis.call('SET', KEYS[4], '1', 'PX', ARGV[6]) end
return 'ok'`;

/**
 * KEYS: for each lease, its token leases, agent leases and revoked flag.
 * ARGV: lease ttl, then each lease id. Returns the (1-based) positions of revoked leases.
 */
const RENEW = `${NOW}
local ttl = tonumber(ARGV[1])
local revoked = {}
for i = 2, #ARGV do
  local k = (i - 2) * 3
  redis.call('ZADD', KEYS[k + 1], now + ttl, ARGV[i])
  redis.call('PEXPIRE', KEYS[k + 1], ttl)
  redis.call('ZADD', KEYS[k + 2], now + ttl, ARGV[i])
  redis.call('PEXPIRE', KEYS[k + 2], ttl)
  if redis.call('EXISTS', KEYS[k + 3]) == 1 then revoked[#revoked + 1] = i - 1 end
end
return revoked`;

const RENEW_BATCH = 200;
const REFUSALS = new Set<string>(['revoked', 'token-used', 'token-limit', 'agent-limit']);

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * Shared state in Redis (any Redis ≥ 5, or a compatible server such as Valkey): leases are sorted
 * sets scored by expiry, so an instance that dies without cleaning up loses its sessions when their
 * lease runs out. Every check-and-take runs as one Lua script, atomic across instances.
 *
 * While Redis cannot be reached, `acquire` rejects at once (no offline queue) and the client
 * reconnects in the background.
 */
export function redisStore(options: RedisStoreOptions): RelayStore {
  if (!options.url) throw new TypeError('redisStore: `url` is required');
  const prefix = options.prefix ?? 'voicewire:relay:';
  const timeoutMs = options.commandTimeoutMs ?? 2000;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: timeoutMs,
      // Retry quickly at first, then every 2 s, forever: the relay keeps serving live sessions meanwhile.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  let closed = false;
  client.on('error', (error: Error) => {
    if (!closed) options.onError?.(error);
  });
  let everReady = false;
  const connecting = client.connect().then(
    () => {
      everReady = true;
    },
    (error: Error) => {
      if (!closed) options.onError?.(error);
    },
  );

  /** A relay just started waits (up to the command timeout) for its first connection; later outages fail at once. */
  async function firstConnection(): Promise<void> {
    if (everReady || closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  const keys = {
    token: (id: string) => `${prefix}lease:token:${id}`,
    agent: (id: string) => `${prefix}lease:agent:${id}`,
    revoked: (id: string) => `${prefix}revoked:${id}`,
    used: (id: string) => `${prefix}used:${id}`,
  };

  async function command<T>(args: string[]): Promise<T> {
    if (closed) throw new StoreUnavailableError('The session store is closed');
    await firstConnection();
    if (!client.isReady) throw new StoreUnavailableError('The session store (Redis) is unreachable');
    try {
      return (await client.sendCommand(args, { timeout: timeoutMs })) as T;
    } catch (error) {
      throw new StoreUnavailableError(`The session store (Redis) failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** EVALSHA, loading the script on the first NOSCRIPT (a restarted Redis forgets its scripts). */
  async function script<T>(source: string, sha: string, keyList: string[], argv: string[]): Promise<T> {
    try {
      return await command<T>(['EVALSHA', sha, String(keyList.length), ...keyList, ...argv]);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return command<T>(['EVAL', source, String(keyList.length), ...keyList, ...argv]);
    }
  }
  const acquireSha = sha1(ACQUIRE);
  const renewSha = sha1(RENEW);

  return {
    kind: 'redis',
    get available() {
      return !closed && client.isReady;
    },
    async acquire(request: LeaseRequest): Promise<LeaseResult> {
      const reply = await script<string>(
        ACQUIRE,
        acquireSha,
        [
          keys.token(request.tokenId),
          keys.agent(request.agentId),
          keys.revoked(request.tokenId),
          keys.used(request.tokenId),
        ],
        [
          request.leaseId,
          String(request.maxPerToken),
          String(request.maxPerAgent),
          request.singleUse ? '1' : '0',
          String(Math.max(1, Math.round(request.ttlMs))),
          String(Math.max(1, Math.round(request.tokenTtlMs))),
        ],
      );
      if (reply === 'ok') return { ok: true };
      if (REFUSALS.has(reply)) return { ok: false, reason: reply as LeaseRefusal };
      throw new StoreUnavailableError(`The session store answered ${JSON.stringify(reply)}`);
    },
    async renew(leases: readonly Lease[], ttlMs: number): Promise<string[]> {
      const revoked = new Set<string>();
      for (let start = 0; start < leases.length; start += RENEW_BATCH) {
        const batch = leases.slice(start, start + RENEW_BATCH);
        const keyList = batch.flatMap((l) => [
          keys.token(l.tokenId),
          keys.agent(l.agentId),
          keys.revoked(l.tokenId),
        ]);
        const positions = await script<number[]>(RENEW, renewSha, keyList, [
          String(Math.max(1, Math.round(ttlMs))),
          ...batch.map((l) => l.leaseId),
        ]);
        for (const position of positions) {
          const lease = batch[Number(position) - 1];
          if (lease) revoked.add(lease.tokenId);
        }
      }
      return [...revoked];
    },
    async release(lease: Lease): Promise<void> {
      await command(['ZREM', keys.token(lease.tokenId), lease.leaseId]);
      await command(['ZREM', keys.agent(lease.agentId), lease.leaseId]);
    },
    async revoke(tokenId: string, ttlMs: number): Promise<void> {
      await command(['SET', keys.revoked(tokenId), '1', 'PX', String(Math.max(1, Math.round(ttlMs)))]);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
      await connecting;
    },
  };
}
