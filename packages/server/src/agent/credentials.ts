/**
 * The keys a local agent accepts, and the short-lived credentials it mints from them for browsers
 * (OpenAI's ephemeral `ek_…` keys, ElevenLabs' signed-URL signatures, Gemini's `auth_tokens/…`,
 * Deepgram's grants, Hume's access tokens). Every dialect checks what
 * its clients present here, so `apiKeys` (`--api-key`) means the same on every protocol. Keys are
 * kept and compared only as SHA-256 digests: equal lengths for `timingSafeEqual`, and the key
 * itself never stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An API key that only opens some agents (a key for another agent is refused). */
export interface ApiKeyGrant {
  key: string;
  agentIds: readonly string[];
}

export type CredentialCheck =
  | {
      ok: true;
      /** No credential was presented, and the agent allows that. */
      anonymous: boolean;
      /** Whether this credential opens `agentId` (a restricted key, or a token minted for one agent). */
      allows(agentId: string): boolean;
      /**
       * Take one use of a token minted for a number of uses (Gemini's `uses`); `false` when none
       * is left (another session took the last). Keys and unlimited tokens always return `true`.
       */
      spend(): boolean;
      /** A session opened with this token must end by then (Gemini's `expireTime`), in ms since the epoch. */
      sessionEndsAt?: number;
    }
  | {
      ok: false;
      /**
       * `missing`: nothing presented; `unknown`: not a key or token of ours; `expired`: a minted
       * token past its time; `used`: a minted token whose uses are all spent.
       */
      reason: 'missing' | 'unknown' | 'expired' | 'used';
    };

interface Grant {
  digest: Buffer;
  agentIds: ReadonlySet<string> | undefined;
}

interface MintedToken {
  expiresAt: number;
  /** The rights of the key it was minted from, narrowed to one agent for a signed URL. */
  allows(agentId: string): boolean;
  /** Uses left; `undefined`: as many as wanted until it expires. */
  usesLeft: number | undefined;
  sessionEndsAt: number | undefined;
}

const ALWAYS = () => true;

/** Minted tokens remembered at once; the oldest go first past this. */
const MAX_MINTED = 10_000;

export class Credentials {
  readonly #grants: Grant[];
  readonly #keysConfigured: boolean;
  readonly #allowAnonymous: boolean;
  readonly #minted = new Map<string, MintedToken>();

  constructor(apiKeys: ReadonlyArray<string | ApiKeyGrant> | undefined, allowAnonymous: boolean) {
    this.#grants = (apiKeys ?? []).map((entry) =>
      typeof entry === 'string'
        ? { digest: digest(entry), agentIds: undefined }
        : { digest: digest(entry.key), agentIds: new Set(entry.agentIds) },
    );
    this.#keysConfigured = apiKeys !== undefined;
    this.#allowAnonymous = allowAnonymous;
  }

  /**
   * Check what a client presented (`undefined` or blank: nothing). A token this agent minted is
   * valid until it expires; anything else must be a configured key, or, with no keys
   * configured, any non-empty string.
   */
  check(credential: string | undefined): CredentialCheck {
    if (credential === undefined || credential.trim() === '') {
      return this.#allowAnonymous
        ? { ok: true, anonymous: true, allows: ALWAYS, spend: ALWAYS }
        : { ok: false, reason: 'missing' };
    }
    const minted = this.#minted.get(tokenKey(credential));
    if (minted) {
      if (minted.expiresAt <= Date.now()) return { ok: false, reason: 'expired' };
      if (minted.usesLeft === 0) return { ok: false, reason: 'used' };
      return {
        ok: true,
        anonymous: false,
        allows: minted.allows,
        spend: () => {
          if (minted.usesLeft === undefined) return true;
          if (minted.usesLeft === 0) return false;
          minted.usesLeft--;
          return true;
        },
        ...(minted.sessionEndsAt !== undefined ? { sessionEndsAt: minted.sessionEndsAt } : {}),
      };
    }
    if (!this.#keysConfigured) return { ok: true, anonymous: false, allows: ALWAYS, spend: ALWAYS };
    const given = digest(credential);
    const grant = this.#grants.find((g) => timingSafeEqual(g.digest, given));
    if (!grant) return { ok: false, reason: 'unknown' };
    return {
      ok: true,
      anonymous: false,
      allows: (agentId) => grant.agentIds === undefined || grant.agentIds.has(agentId),
      spend: ALWAYS,
    };
  }

  /**
   * A new short-lived token carrying the rights of `from` (a successful check of the key that
   * asked for it), narrowed to `agentId` when given (check `from.allows(agentId)` first).
   * `prefix` and `suffix` give it its kind's shape (`ek_…` for OpenAI's ephemeral keys, a JSON Web
   * Token's three parts for Deepgram's grants); `uses` limits how many sessions it opens (each
   * `spend()`), `sessionEndsAt` how long they may last.
   */
  mint(
    from: Extract<CredentialCheck, { ok: true }>,
    options: {
      ttlMs: number;
      prefix?: string;
      suffix?: string;
      agentId?: string;
      uses?: number;
      sessionEndsAt?: number;
    },
  ): { token: string; expiresAt: number } {
    const now = Date.now();
    // Oldest first: drop the expired, and the oldest when full.
    for (const [key, token] of this.#minted) {
      if (token.expiresAt <= now || this.#minted.size >= MAX_MINTED) this.#minted.delete(key);
      else break;
    }
    const token = `${options.prefix ?? ''}${randomBytes(24).toString('base64url')}${options.suffix ?? ''}`;
    const expiresAt = now + options.ttlMs;
    const only = options.agentId;
    const inherited = from.allows;
    this.#minted.set(tokenKey(token), {
      expiresAt,
      allows: (agentId) => (only === undefined || only === agentId) && inherited(agentId),
      usesLeft: options.uses,
      sessionEndsAt: options.sessionEndsAt,
    });
    return { token, expiresAt };
  }
}

/** Keys are compared by digest: equal lengths for timingSafeEqual, and the key itself never kept. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Minted tokens are looked up by digest too, so a heap dump holds none of them. */
function tokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}
