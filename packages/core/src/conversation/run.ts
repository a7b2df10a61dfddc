import type { StoreApi } from 'zustand/vanilla';
import type { AudioContextController } from '../audio/createAudioContextController.ts';
import type { Capture, Player } from '../audio/types.ts';
import { type Attempts, type Connection, createAttempts } from './connection.ts';
import type { Emitter } from './emitter.ts';
import type { ResolvedOptions } from './options.ts';
import { createStatsRecorder, type StatsRecorder } from './stats.ts';
import { createTimer, type Timer } from './time.ts';
import { INITIAL_TURN, type TurnEvent, type TurnState } from './turnTaking.ts';
import type {
  ConversationError,
  ConversationEventMap,
  ConversationOptions,
  ConversationState,
  ConversationStatus,
  DisconnectReason,
} from './types.ts';
import { createUplink, type Uplink } from './uplink.ts';

/** One `start()` … end: the mic, the context and the player live this long; sockets may come and go. */
export interface Run {
  /** The options as they were at `start()`. */
  readonly options: ResolvedOptions;
  ended: boolean;
  context: AudioContextController | null;
  /** Cancels the capture and player still loading when the run ends. */
  abort: AbortController | undefined;
  capture: Capture | null;
  player: Player | null;
  /** Calls waiting for the player to load. */
  playerCalls: ((player: Player) => void)[];
  conn: Connection | null;
  readonly attempts: Attempts;
  readonly uplink: Uplink;
  readonly stats: StatsRecorder;
  turn: TurnState;
  /** Runs out `DRAIN_GRACE_MS` after the player ran dry mid-reply. */
  readonly drainGrace: Timer;
  audioReady: boolean;
  conversationId: string | null;
  /** Resolves when audio is live and the agent answered, or when the run ends. */
  readonly started: Promise<void>;
  readonly resolveStarted: () => void;
  /** Resolves when everything is released (the context closed). */
  released: Promise<void>;
}

/** `options` null: the options were invalid and the run ends before it uses any. */
export function createRun(options: ResolvedOptions | null): Run {
  let resolveStarted = (): void => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });
  const runOptions =
    options ?? ({ reconnect: null, maxPendingFrames: 1, maxBacklogFrames: 1 } as ResolvedOptions);
  const stats = createStatsRecorder();
  return {
    options: runOptions,
    ended: false,
    context: null,
    abort: undefined,
    capture: null,
    player: null,
    playerCalls: [],
    conn: null,
    attempts: createAttempts(runOptions.reconnect),
    uplink: createUplink(runOptions, stats),
    stats,
    turn: INITIAL_TURN,
    drainGrace: createTimer(),
    audioReady: false,
    conversationId: null,
    started,
    resolveStarted,
    released: Promise.resolve(),
  };
}

/**
 * What the parts of a conversation (connection.ts, serverMessages.ts) act through: its store,
 * its events and the steps that change a run's course. Made once by `createConversation`.
 */
export interface ConversationHost {
  readonly store: StoreApi<ConversationState>;
  readonly events: Emitter<ConversationEventMap>;
  /** The options now (callbacks and `getToken` are read from here when used). */
  options(): ConversationOptions;
  /** Write what changed to the store and emit `statusChange`/`modeChange`. */
  update(patch: Partial<ConversationState>): void;
  /** Feed turn-taking an event and show its mode, with `patch` in the same update. */
  turn(current: Run, event: TurnEvent, patch?: Partial<ConversationState>): void;
  /** Run `call` on the player now, or as soon as it has loaded. */
  withPlayer(current: Run, call: (player: Player) => void): void;
  /** Resolve `start()` once audio is live and the agent answered. */
  maybeResolveStarted(current: Run): void;
  fail(current: Run, error: ConversationError, reason?: DisconnectReason): void;
  endRun(
    current: Run,
    status: Extract<ConversationStatus, 'ended' | 'error'>,
    error: ConversationError | null,
    reason: DisconnectReason,
  ): Promise<void>;
  /** A run that ended, or was replaced by a newer `start()`: its late events are ignored. */
  stale(current: Run): boolean;
  /** The id of the next transcript turn: `turn-1`, `turn-2`… across runs. */
  nextTurnId(): string;
  /** A frame from the server on `conn` (see serverMessages.ts). */
  message(current: Run, conn: Connection, data: unknown): void;
}
