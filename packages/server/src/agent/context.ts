/**
 * What a session is given: the agent's shared state ({@link SessionContext}) and what its socket
 * URL asked for ({@link SessionInit}, read by {@link parseSessionQuery}).
 */
import type { ConversationStore } from './conversationStore.ts';
import { type Fault, parseFaults } from './faults.ts';
import type { Ticker } from './ticker.ts';

/** What every session of one agent shares. */
export interface SessionContext {
  readonly ticker: Ticker;
  readonly conversations: ConversationStore;
  /** Sessions past a successful setup: what `maxConnections` counts. */
  readonly liveSessions: Set<object>;
  readonly silenceMs: number;
  readonly greeting: string;
  readonly maxConnections: number;
  /** End each call after this many replies (`hangupAfterTurns`); `undefined`: never. */
  readonly hangupAfterTurns: number | undefined;
  /**
   * Checks the key and the agent id together: `undefined` when both are fine. `apiKey` is
   * `undefined` when the setup has none (an anonymous client, when the agent allows them).
   */
  authorize(apiKey: string | undefined, agentId: string): { code: number; message: string } | undefined;
  log(line: string): void;
}

/** Per-call settings a client may give in the socket URL's query. */
export interface SessionQuery {
  faults: Fault[];
  /** `?hangupAfterTurns=N`: overrides the agent's own setting for this call. */
  hangupAfterTurns?: number;
}

export interface SessionInit {
  /** From the URL path; `undefined` when the path had none. */
  agentId: string | undefined;
  /** The query, or what is wrong with it (the setup is then refused with 4400). */
  query: { ok: true; value: SessionQuery } | { ok: false; error: string };
  /** For the log: who connected and to what (never the query, which may carry a token). */
  remote: string;
  path: string;
}

/** The largest `hangupAfterTurns` accepted: more is a typo, not a test. */
export const MAX_HANGUP_AFTER_TURNS = 10_000;

/** Read a socket URL's query: `fault` (see faults.ts) and `hangupAfterTurns`. */
export function parseSessionQuery(params: URLSearchParams): SessionInit['query'] {
  const faults = parseFaults(params);
  if (!faults.ok) return faults;
  const value: SessionQuery = { faults: faults.faults };
  const turns = params.get('hangupAfterTurns');
  if (turns !== null) {
    const n = Number(turns);
    if (!/^\d{1,5}$/.test(turns) || n < 1 || n > MAX_HANGUP_AFTER_TURNS) {
      return {
        ok: false,
        error: `hangupAfterTurns must be a whole number from 1 to ${MAX_HANGUP_AFTER_TURNS}, got "${turns.slice(0, 20)}"`,
      };
    }
    value.hangupAfterTurns = n;
  }
  return { ok: true, value };
}

const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidAgentId(agentId: string): boolean {
  return AGENT_ID_PATTERN.test(agentId);
}
