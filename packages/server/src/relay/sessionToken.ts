import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived session tokens: the site's own backend mints one per conversation with the relay's
 * shared secret, the browser presents it as `?token=`, the relay verifies it. The API key never
 * leaves the server.
 *
 * Format: `<base64url(JSON payload)>.<base64url(HMAC-SHA256(secret, first part))>` — compact,
 * URL-safe without escaping, and verifiable without any state on the relay.
 */

export interface SessionTokenOptions {
  /** The secret shared by the backend that mints tokens and the relay that verifies them. */
  secret: string;
  /**
   * What the token may open (its target): the agent id for PlayAI and ElevenLabs, the model for
   * OpenAI and Gemini, the config id for Hume (the relay's README has the table). A token for
   * another target is refused. `null` mints a token bound to no target, which opens whatever the
   * relay's key can reach: the only kind a Deepgram relay accepts, which has no target to check.
   * One of `target` or `agentId` is required.
   */
  target?: string | null;
  /** The agent the token is good for: the same as `target` (its name before the relay spoke several providers). */
  agentId?: string;
  /** Lifetime in seconds. It only bounds when a session may *start*. @defaultValue 300 */
  ttlSeconds?: number;
  /** When set, the token is only accepted from a browser page of this origin (`https://example.com`). */
  origin?: string;
  /**
   * The token's id: what the relay counts concurrent sessions by and what `relay.revokeToken`
   * takes. Give your own (a user or visitor id) to revoke by it. @defaultValue a random id
   */
  id?: string;
  /**
   * The token opens one session, once, on any relay instance sharing the store; a replay is
   * refused (4401). A client that reconnects needs a fresh token, so pair it with `getToken`.
   * @defaultValue false
   */
  singleUse?: boolean;
  /** Clock for tests, in milliseconds since the epoch. @defaultValue Date.now() */
  now?: number;
}

/** What a token carries (short keys keep it compact in a URL). */
export interface SessionTokenPayload {
  /** Format version. */
  v: 1;
  /** The target (agent id, model or config id); absent in a token bound to no target. */
  a?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** The token id: the relay counts concurrent sessions per token by it. */
  jti: string;
  /** Origin the token is bound to, if any. */
  o?: string;
  /** 1 for a single-use token. */
  su?: 1;
}

export type SessionTokenFailure =
  /** No token was given. */
  | 'missing'
  /** Not two base64url parts, or the payload is not the expected JSON. */
  | 'malformed'
  /** The signature does not match: tampered, or minted with another secret. */
  | 'bad-signature'
  /** Past its expiry. */
  | 'expired'
  /** Minted for another target (agent, model or config), or bound to one where there is none to check. */
  | 'wrong-agent'
  /** Bound to an origin other than the page's. */
  | 'wrong-origin';

export type SessionTokenVerification =
  | { ok: true; payload: SessionTokenPayload }
  | { ok: false; reason: SessionTokenFailure; message: string };

export interface VerifySessionTokenOptions {
  secret: string;
  /**
   * The target the client is opening (agent id, model, config id). A token bound to no target
   * passes for any. `null` (or neither this nor `agentId`): there is nothing to check against, so
   * only a token bound to no target passes.
   */
  target?: string | null;
  /** The agent the client is connecting to: the same as `target`. */
  agentId?: string;
  /** The word for the target in the refusal message ("another agent", "another model"). @defaultValue 'agent' */
  targetNoun?: string;
  /** The page's `Origin` header, checked when the token is bound to an origin. */
  origin?: string | undefined;
  /** Clock for tests, in milliseconds since the epoch. @defaultValue Date.now() */
  now?: number;
}

const DEFAULT_TTL_SECONDS = 300;

function sign(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Mints a token for one conversation with `target`. Call it on your own backend, never in the browser. */
export function createSessionToken(options: SessionTokenOptions): string {
  if (!options.secret) throw new TypeError('createSessionToken: `secret` is required');
  const target = mintedTarget(options);
  if (options.id !== undefined && (typeof options.id !== 'string' || options.id.length === 0)) {
    throw new TypeError('createSessionToken: `id` must be a non-empty string');
  }
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('createSessionToken: `ttlSeconds` must be a positive number');
  }
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const payload: SessionTokenPayload = {
    v: 1,
    ...(target !== null ? { a: target } : {}),
    iat: nowSeconds,
    exp: nowSeconds + Math.ceil(ttlSeconds),
    jti: options.id ?? randomBytes(9).toString('base64url'),
  };
  if (options.origin !== undefined) payload.o = options.origin;
  if (options.singleUse === true) payload.su = 1;
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(options.secret, body).toString('base64url')}`;
}

/** The target a token is minted for: a non-empty string, or null for none (asked for explicitly). */
function mintedTarget(options: SessionTokenOptions): string | null {
  const { target, agentId } = options;
  if (agentId !== undefined && (typeof agentId !== 'string' || agentId.length === 0))
    throw new TypeError('createSessionToken: `agentId` must be a non-empty string');
  if (target === undefined) {
    if (agentId === undefined)
      throw new TypeError(
        'createSessionToken: `target` (or `agentId`) is required; `target: null` mints a token bound to no target',
      );
    return agentId;
  }
  if (target !== null && (typeof target !== 'string' || target.length === 0))
    throw new TypeError('createSessionToken: `target` must be a non-empty string or null');
  if (agentId !== undefined && agentId !== target)
    throw new TypeError('createSessionToken: `target` and `agentId` name the same thing; give one');
  return target;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function isPayload(value: unknown): value is SessionTokenPayload {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === 1 &&
    (p.a === undefined || typeof p.a === 'string') &&
    typeof p.exp === 'number' &&
    typeof p.iat === 'number' &&
    typeof p.jti === 'string' &&
    (p.o === undefined || typeof p.o === 'string') &&
    (p.su === undefined || p.su === 1)
  );
}

/**
 * Checks a token; never throws. The signature is checked before anything in the payload is
 * trusted, and compared in constant time so its bytes cannot be guessed from response timings.
 */
export function verifySessionToken(
  token: string | null | undefined,
  options: VerifySessionTokenOptions,
): SessionTokenVerification {
  const target = options.target !== undefined ? options.target : (options.agentId ?? null);
  return verifyToken(token, options, { target, noun: options.targetNoun ?? 'agent' });
}

/**
 * The checks, with the target's left to the caller when `check` is `'later'`: a relay whose target
 * arrives in the first message (Gemini's model) checks it then (pipe.ts).
 */
export function verifyToken(
  token: string | null | undefined,
  options: Pick<VerifySessionTokenOptions, 'secret' | 'origin' | 'now'>,
  check: { target: string | null; noun: string } | 'later',
): SessionTokenVerification {
  if (!token) return { ok: false, reason: 'missing', message: 'A session token is required' };
  const parts = token.split('.');
  const [body, signature] = parts;
  if (parts.length !== 2 || !body || !signature || !BASE64URL.test(body) || !BASE64URL.test(signature)) {
    return { ok: false, reason: 'malformed', message: 'The session token is malformed' };
  }
  const expected = sign(options.secret, body);
  const given = Buffer.from(signature, 'base64url');
  // Strict: base64url decoding ignores the spare low bits of the last character, so several
  // strings decode to the same bytes. Only the one canonical encoding is accepted, so a token
  // has exactly one spelling and a changed character is always a changed signature.
  if (
    given.length !== expected.length ||
    given.toString('base64url') !== signature ||
    !timingSafeEqual(given, expected)
  ) {
    return { ok: false, reason: 'bad-signature', message: 'The session token signature is invalid' };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    payload = undefined;
  }
  if (!isPayload(payload)) {
    return { ok: false, reason: 'malformed', message: 'The session token is malformed' };
  }
  const nowSeconds = (options.now ?? Date.now()) / 1000;
  if (nowSeconds >= payload.exp) {
    return { ok: false, reason: 'expired', message: 'The session token has expired' };
  }
  if (check !== 'later' && payload.a !== undefined && payload.a !== check.target) {
    return {
      ok: false,
      reason: 'wrong-agent',
      message:
        check.target === null
          ? 'The session token is bound to a target this relay cannot check; mint it with target: null'
          : `The session token is for another ${check.noun}`,
    };
  }
  if (payload.o !== undefined && payload.o !== options.origin) {
    return { ok: false, reason: 'wrong-origin', message: 'The session token is not valid for this origin' };
  }
  return { ok: true, payload };
}

/**
 * The id of a token (what `relay.revokeToken` takes), read without verifying it: for your backend
 * to record the ids it hands out. Undefined for anything that is not a token.
 */
export function sessionTokenId(token: string): string | undefined {
  const body = token.split('.')[0];
  if (!body || !BASE64URL.test(body)) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return isPayload(payload) ? payload.jti : undefined;
  } catch {
    return undefined;
  }
}
