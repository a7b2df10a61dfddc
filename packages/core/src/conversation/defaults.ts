import type { ReconnectPolicy } from './types.ts';

/*
 * The conversation's defaults, in a module of their own: the public entries export them without
 * pulling in the engine that uses them (a bundler that splits code would otherwise load that
 * engine's modules with the page).
 */

/** See {@link ConversationOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/**
 * Mic audio kept while no session is set up (the socket is opening, or reconnecting), sent right
 * after `setup` so the first words spoken while connecting reach the agent. Older audio is
 * dropped (and counted): replaying seconds of stale speech would confuse turn-taking.
 */
export const PENDING_AUDIO_MS = 1_000;
/**
 * Unsent audio the socket may hold (`bufferedAmount`) before new frames are dropped. On a slow
 * uplink the queue would otherwise grow without bound and the agent would hear the user later
 * and later; a second of backlog rides out a hiccup while keeping the conversation live.
 */
export const MAX_SEND_BACKLOG_MS = 1_000;

/**
 * Drain, then close: when the agent ends the call, what it already said plays to its end before
 * the conversation releases the audio. Bounded: a player that never reports the end (a stalled
 * decoder, a suspended context) is released after this long anyway.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** How a dropped connection is retried unless the `reconnect` option says otherwise. */
export const DEFAULT_RECONNECT_POLICY: Readonly<Required<ReconnectPolicy>> = Object.freeze({
  maxAttempts: 5,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.3,
});
