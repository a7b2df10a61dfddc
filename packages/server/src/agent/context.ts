/**
 * What a session is given: the agent's shared state ({@link SessionContext}) and what its socket
 * request asked for ({@link SessionInit}; the per-call options every dialect shares are read by
 * {@link parseSessionQuery}).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ConversationStore } from './conversationStore.ts';
import type { Credentials } from './credentials.ts';
import { type Fault, parseFaults } from './faults.ts';
import type { Ticker } from './ticker.ts';

/** The OpenAI dialect's greeting: spoken on the client's first `response.create`, or at once. */
export type OpenAIGreeting = 'on-request' | 'auto';

/**
 * The Gemini dialect's greeting (the service has none: apps ask for a first turn): spoken once
 * `setupComplete` is sent, or on the client's first empty `clientContent { turnComplete: true }`.
 */
export type GeminiGreeting = 'auto' | 'on-request';

/** The ElevenLabs dialect's audio formats, as its `conversation_initiation_metadata` names them. */
export const ELEVENLABS_FORMATS = [
  'pcm_8000',
  'pcm_16000',
  'pcm_22050',
  'pcm_24000',
  'pcm_44100',
  'pcm_48000',
  'ulaw_8000',
] as const;
export type ElevenLabsFormat = (typeof ELEVENLABS_FORMATS)[number];

/** What every session of one agent shares. */
export interface SessionContext {
  readonly ticker: Ticker;
  readonly conversations: ConversationStore;
  /** Sessions past a successful handshake: what `maxConnections` counts. */
  readonly liveSessions: Set<object>;
  readonly silenceMs: number;
  readonly greeting: string;
  readonly maxConnections: number;
  /** End each call after this many replies (`hangupAfterTurns`); `undefined`: never. */
  readonly hangupAfterTurns: number | undefined;
  readonly credentials: Credentials;
  /** Whether `agentId` is served: well formed, and in `agentIds` when that is set. */
  servesAgent(agentId: string): boolean;
  readonly openaiGreeting: OpenAIGreeting;
  readonly elevenlabs: {
    inputFormat: ElevenLabsFormat;
    outputFormat: ElevenLabsFormat;
    pingIntervalMs: number;
  };
  readonly gemini: {
    greeting: GeminiGreeting;
    /** A connection is closed this long after `setupComplete`, warned by `goAway`; `undefined`: never. */
    connectionLifetimeMs: number | undefined;
  };
  readonly deepgram: {
    /** A client that sends nothing (audio, `KeepAlive`, …) for this long is dropped. */
    clientTimeoutMs: number;
  };
  log(line: string): void;
}

/** Per-call settings a client may give in the socket URL's query, on every protocol. */
export interface SessionQuery {
  faults: Fault[];
  /** `?hangupAfterTurns=N`: overrides the agent's own setting for this call. */
  hangupAfterTurns?: number;
}

export interface SessionInit {
  /** From the URL path (PlayAI's protocol); `undefined` when the path had none. */
  agentId: string | undefined;
  /** The query's shared options, or what is wrong with them (the handshake is then refused). */
  query: { ok: true; value: SessionQuery } | { ok: false; error: string };
  /** The whole query, for what a dialect reads itself (`model`, `agent_id`, formats, tokens). */
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The subprotocols the client offered, in its order. */
  protocols: readonly string[];
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
