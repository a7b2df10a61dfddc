import type { StoreApi } from 'zustand/vanilla';
import type { AudioContextController } from '../audio/createAudioContextController.ts';
import type { Capture, Player } from '../audio/types.ts';
import type { WakeLockHandle } from '../platform/wakeLock.ts';
import type { ProviderSession, WireInputFormat, WireOutputFormat } from '../providers/types.ts';
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
  /** The provider's side of this call (null only for a run whose options were refused). */
  session: ProviderSession | null;
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
  /** The server announced other formats than the provider's defaults (ElevenLabs): apply them. */
  setInputFormat(format: WireInputFormat): void;
  setOutputFormat(format: WireOutputFormat): void;
  /** Resolves when audio is live and the agent answered, or when the run ends. */
  readonly started: Promise<void>;
  readonly resolveStarted: () => void;
  /** Resolves when everything is released (the context closed). */
  released: Promise<void>;
  /** Agent audio was queued and has not played out yet (cleared when a complete reply drains). */
  audioPending: boolean;
  /** The screen wake lock, held for the run (null with `wakeLock: false`). */
  wakeLock: WakeLockHandle | null;
  /** Set while `ending` (drain, then close): cuts the drain short. */
  cancelDrain: (() => void) | null;
  /** Stops listening for the page going away (`pagehide`). */
  forgetPage: (() => void) | null;
  /** The wire formats in force (the provider's, or what the server announced). */
  inputFormat: WireInputFormat | null;
  outputFormat: WireOutputFormat | null;
}

/** `options` null: the options were invalid and the run ends before it uses any. */
export function createRun(options: ResolvedOptions | null, session: ProviderSession | null): Run {
  let resolveStarted = (): void => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });
  const runOptions =
    options ?? ({ reconnect: null, maxPendingFrames: 1, maxBacklogFrames: 1 } as ResolvedOptions);
  const stats = createStatsRecorder();
  const run: Run = {
    options: runOptions,
    session,
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
    setInputFormat(format) {
      const capture = run.capture;
      if (
        capture !== null &&
        (capture.sampleRate !== format.sampleRate || capture.encoding !== format.encoding)
      ) {
        capture.setFormat?.(format);
      }
      run.inputFormat = format;
    },
    setOutputFormat(format) {
      run.outputFormat = format;
      const player = run.player;
      if (player !== null) player.setFormat?.(format.format, format.sampleRate);
      else run.playerCalls.push((p) => p.setFormat?.(format.format, format.sampleRate));
    },
    inputFormat: session?.input ?? null,
    outputFormat: session?.output ?? null,
    started,
    resolveStarted,
    released: Promise.resolve(),
    audioPending: false,
    wakeLock: null,
    cancelDrain: null,
    forgetPage: null,
  };
  return run;
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
  /** The server answered: status `connected` (lifecycle.ts), the conversation id, no error. */
  ready(current: Run, conversationId: string | null): void;
  /** The socket was lost and a reconnect is scheduled: status `reconnecting`, with `error`. */
  lost(current: Run, error: ConversationError): void;
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
  /**
   * The agent ended the call: its last words play to their end (status `ending`), then the run
   * ends with `reason` (see drain.ts).
   */
  drainThenEnd(current: Run, reason: DisconnectReason): void;
  /** A run that ended, or was replaced by a newer `start()`: its late events are ignored. */
  stale(current: Run): boolean;
  /** The id of the next transcript turn: `turn-1`, `turn-2`… across runs. */
  nextTurnId(): string;
  /** A frame from the server on `conn` (see providerEvents.ts). */
  message(current: Run, conn: Connection, data: unknown): void;
}
