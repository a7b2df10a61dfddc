/**
 * Where the relay keeps what several instances must agree on: session leases (concurrent sessions
 * per token and per agent), single-use tokens already spent, revoked token ids. `memoryStore()` is
 * one process's memory (one instance); `redisStore()` shares it through Redis.
 */

/** Why the store refused a new session. */
export type LeaseRefusal =
  /** The token id was revoked (`relay.revokeToken`). */
  | 'revoked'
  /** A single-use token that already opened a session. */
  | 'token-used'
  /** The token already holds `maxSessionsPerToken` live sessions. */
  | 'token-limit'
  /** The agent already has `maxSessionsPerAgent` live sessions. */
  | 'agent-limit';

export interface LeaseRequest {
  /** Unique across every instance (the relay builds it from its instance id and session id). */
  leaseId: string;
  tokenId: string;
  agentId: string;
  maxPerToken: number;
  /** 0 for no per-agent limit. */
  maxPerAgent: number;
  /** Refuse if this token id ever opened a session before, and remember that it has. */
  singleUse: boolean;
  /** A lease not renewed for this long is gone (its instance died). */
  ttlMs: number;
  /** How long a spent single-use token is remembered: until the token expires. */
  tokenTtlMs: number;
}

/** Identifies a held lease. */
export interface Lease {
  leaseId: string;
  tokenId: string;
  agentId: string;
}

export type LeaseResult = { ok: true } | { ok: false; reason: LeaseRefusal };

export interface RelayStore {
  /** Short name for logs and metrics (`memory`, `redis`). */
  readonly kind: string;
  /** False while the store cannot be reached: new sessions are refused, live ones go on. */
  readonly available: boolean;
  /** Checks revocation, single use and the limits, and takes a lease, atomically. Rejects with `StoreUnavailableError`. */
  acquire(request: LeaseRequest): Promise<LeaseResult>;
  /** Extends the leases by `ttlMs` (re-creating any that expired); resolves with the token ids among them that are revoked. */
  renew(leases: readonly Lease[], ttlMs: number): Promise<string[]>;
  /** Gives a lease back. */
  release(lease: Lease): Promise<void>;
  /** Refuses the token id everywhere for `ttlMs`. */
  revoke(tokenId: string, ttlMs: number): Promise<void>;
  /** Disconnects; the relay calls it from `close()` when it created the store itself. */
  close(): Promise<void>;
}

/** The store could not be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** In-process state: today's single-instance behaviour, and the default. */
export function memoryStore(): RelayStore {
  const tokenLeases = new Map<string, Map<string, number>>();
  const agentLeases = new Map<string, Map<string, number>>();
  const used = new Map<string, number>();
  const revoked = new Map<string, number>();

  const live = (map: Map<string, Map<string, number>>, key: string, now: number): Map<string, number> => {
    let leases = map.get(key);
    if (!leases) {
      leases = new Map();
      map.set(key, leases);
    }
    for (const [id, expires] of leases) if (expires <= now) leases.delete(id);
    return leases;
  };
  const flag = (map: Map<string, number>, key: string, now: number): boolean => {
    const expires = map.get(key);
    if (expires === undefined) return false;
    if (expires > now) return true;
    map.delete(key);
    return false;
  };
  const drop = (map: Map<string, Map<string, number>>, key: string, leaseId: string) => {
    const leases = map.get(key);
    if (!leases) return;
    leases.delete(leaseId);
    if (leases.size === 0) map.delete(key);
  };

  return {
    kind: 'memory',
    available: true,
    async acquire(request) {
      const now = Date.now();
      if (flag(revoked, request.tokenId, now)) return { ok: false, reason: 'revoked' };
      if (request.singleUse && flag(used, request.tokenId, now)) return { ok: false, reason: 'token-used' };
      const byToken = live(tokenLeases, request.tokenId, now);
      if (byToken.size >= request.maxPerToken) return { ok: false, reason: 'token-limit' };
      const byAgent = live(agentLeases, request.agentId, now);
      if (request.maxPerAgent > 0 && byAgent.size >= request.maxPerAgent)
        return { ok: false, reason: 'agent-limit' };
      byToken.set(request.leaseId, now + request.ttlMs);
      byAgent.set(request.leaseId, now + request.ttlMs);
      if (request.singleUse) used.set(request.tokenId, now + request.tokenTtlMs);
      return { ok: true };
    },
    async renew(leases, ttlMs) {
      const now = Date.now();
      const out = new Set<string>();
      for (const lease of leases) {
        live(tokenLeases, lease.tokenId, now).set(lease.leaseId, now + ttlMs);
        live(agentLeases, lease.agentId, now).set(lease.leaseId, now + ttlMs);
        if (flag(revoked, lease.tokenId, now)) out.add(lease.tokenId);
      }
      // Expired leases, and spent and revoked ids past their lifetime, are forgotten.
      for (const map of [tokenLeases, agentLeases])
        for (const [key, held] of map) {
          for (const [id, expires] of held) if (expires <= now) held.delete(id);
          if (held.size === 0) map.delete(key);
        }
      for (const [id, expires] of used) if (expires <= now) used.delete(id);
      for (const [id, expires] of revoked) if (expires <= now) revoked.delete(id);
      return [...out];
    },
    async release(lease) {
      drop(tokenLeases, lease.tokenId, lease.leaseId);
      drop(agentLeases, lease.agentId, lease.leaseId);
    },
    async revoke(tokenId, ttlMs) {
      revoked.set(tokenId, Date.now() + ttlMs);
    },
    async close() {},
  };
}

/**
 * Renews `leases()` every third of `ttlMs` (skipping a beat while one is in flight); the relay
 * closes the sessions of the revoked token ids it is told about. Returns a stop function.
 */
export function renewLeases(
  store: RelayStore,
  ttlMs: number,
  leases: () => Lease[],
  onRenewed: (revokedTokenIds: string[]) => void,
  onError: (error: unknown) => void,
): () => void {
  let renewing = false;
  const timer = setInterval(() => {
    const held = leases();
    if (renewing || held.length === 0) return;
    renewing = true;
    store
      .renew(held, ttlMs)
      .then(onRenewed, onError)
      .finally(() => {
        renewing = false;
      });
  }, ttlMs / 3);
  timer.unref();
  return () => clearInterval(timer);
}
