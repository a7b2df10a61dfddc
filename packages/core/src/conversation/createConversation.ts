import { createStore } from 'zustand/vanilla';
import type { Player } from '../audio/types.ts';
import { openAudioContext, startAudio } from './audioEngine.ts';
import { connect, disconnect } from './connection.ts';
import { fatalError, toConversationError } from './conversationError.ts';
import { createEmitter } from './emitter.ts';
import { resolveOptions } from './options.ts';
import { type ConversationHost, createRun, type Run } from './run.ts';
import { safely } from './safely.ts';
import { onServerFrame } from './serverMessages.ts';
import { createStatsRecorder } from './stats.ts';
import { DRAIN_GRACE_MS, INITIAL_TURN, nextTurn } from './turnTaking.ts';
import type {
  Conversation,
  ConversationCallbacks,
  ConversationError,
  ConversationEventMap,
  ConversationOptions,
  ConversationState,
  ConversationStatus,
  DisconnectReason,
} from './types.ts';

/** Player calls held while the player is still loading (greeting audio can arrive first). */
const MAX_QUEUED_PLAYER_CALLS = 4_096;

const INITIAL_STATE: ConversationState = Object.freeze({
  status: 'idle',
  mode: 'listening',
  conversationId: null,
  transcript: [],
  isMuted: false,
  error: null,
}) as ConversationState;

/**
 * Create a live voice conversation with an agent over the talk protocol. Nothing happens until
 * `start()` (no socket, no microphone, no browser global touched), so it is safe to create during
 * server-side rendering or a React render.
 *
 * Each `start()` begins a run (run.ts) that lives until the conversation ends: its options are
 * resolved and checked (options.ts), the AudioContext opened inside the user's gesture and the
 * audio parts loaded (audioEngine.ts) while the socket connects (connection.ts); server
 * messages (serverMessages.ts) drive turn-taking (turnTaking.ts), the transcript and the stats
 * (stats.ts); every end path goes through `endRun`, which releases everything.
 */
export function createConversation(initialOptions: ConversationOptions): Conversation {
  let options = initialOptions;
  const store = createStore<ConversationState>()(() => ({ ...INITIAL_STATE, transcript: [] }));
  // Callbacks are read from the options when an event fires: replacing them never reconnects.
  const events = createEmitter<ConversationEventMap>(() => options);
  let run: Run | null = null;
  let stats = createStatsRecorder();
  let volume = 1;
  let turnCounter = 0;

  const host: ConversationHost = {
    store,
    events,
    options: () => options,
    update,
    turn(current, event, patch = {}) {
      current.turn = nextTurn(current.turn, event);
      if (!current.turn.drainPending) current.drainGrace.clear();
      else if (event === 'audioDrained') {
        current.drainGrace.start(DRAIN_GRACE_MS, () => {
          if (!stale(current)) host.turn(current, 'drainGraceElapsed');
        });
      }
      update({ ...patch, mode: current.turn.mode });
    },
    withPlayer(current, call) {
      const player = current.player;
      if (player !== null) safely(() => call(player));
      else if (current.playerCalls.length < MAX_QUEUED_PLAYER_CALLS) current.playerCalls.push(call);
    },
    maybeResolveStarted(current) {
      if (current.ended || (current.audioReady && current.conn?.initReceived === true))
        current.resolveStarted();
    },
    fail: (current, error, reason = { by: 'error' }) => void endRun(current, 'error', error, reason),
    endRun,
    stale,
    nextTurnId: () => `turn-${++turnCounter}`,
    message: (current, conn, data) => onServerFrame(host, current, conn, data),
  };

  /** Writes only what changed, so subscribers never see a no-op update. */
  function update(patch: Partial<ConversationState>): void {
    const state = store.getState();
    const keys = Object.keys(patch) as (keyof ConversationState)[];
    if (keys.every((key) => Object.is(state[key], patch[key]))) return;
    store.setState(patch);
    if (patch.status !== undefined && patch.status !== state.status)
      events.emit('statusChange', patch.status);
    if (patch.mode !== undefined && patch.mode !== state.mode) events.emit('modeChange', patch.mode);
  }

  /** A run that ended, or was replaced by a newer `start()`: its late events are ignored. */
  function stale(current: Run): boolean {
    return current !== run || current.ended;
  }

  // ------------------------------------------------------------------------------------------
  // Start: options, the AudioContext (inside the gesture), the socket and the audio parts

  function start(): Promise<void> {
    if (run !== null && !run.ended) return run.started;
    const resolved = resolveOptions(options);
    const current = createRun(resolved.ok ? resolved.options : null);
    run = current;
    stats = current.stats;
    update({ status: 'connecting', mode: 'listening', conversationId: null, transcript: [], error: null });
    if (!resolved.ok) {
      host.fail(current, fatalError('invalid-options', resolved.message));
      return current.started;
    }
    // Before any await: iOS Safari only lets a context created or resumed in the gesture make sound.
    const opened = openAudioContext(current.options);
    if (!opened.ok) {
      host.fail(current, opened.error);
      return current.started;
    }
    current.context = opened.controller;
    connect(host, current);
    if (!current.ended) void loadAudio(current, opened.controller.context);
    return current.started;
  }

  async function loadAudio(current: Run, context: AudioContext): Promise<void> {
    // Ending the run aborts a start still in progress (a worklet load on a context being closed
    // may otherwise never settle, holding the microphone it already opened).
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    current.abort = abort;
    const error = await startAudio(current.options, context, volume, abort?.signal, {
      ended: () => current.ended,
      frame: (frame) => {
        if (!stale(current)) current.uplink.frame(current.conn, frame);
      },
      captureFailed: (failure) => {
        if (!current.ended) host.fail(current, failure);
      },
      capture: (capture) => {
        // Held by the run from now on, so every end path stops it even while the player still loads.
        current.capture = capture;
        if (store.getState().isMuted) safely(() => capture.mute());
      },
      player: (player) => attachPlayer(current, player),
    });
    if (current.ended) return;
    if (error !== null) {
      host.fail(current, error);
      return;
    }
    current.audioReady = true;
    host.maybeResolveStarted(current);
  }

  function attachPlayer(current: Run, player: Player): void {
    current.player = player;
    // No unsubscribing: a closed player is dropped, and each listener ignores a stale run.
    player.on('started', () => {
      if (stale(current)) return;
      current.stats.audioStarted(player);
      host.turn(current, 'audioStarted');
    });
    player.on('drained', () => {
      if (!stale(current)) host.turn(current, 'audioDrained');
    });
    player.on('underrun', () => {
      if (!stale(current)) host.turn(current, 'audioResumed');
    });
    player.on('error', (error) => {
      if (!stale(current)) events.emit('error', { ...toConversationError(error, 'decode'), fatal: false });
    });
    const calls = current.playerCalls;
    current.playerCalls = [];
    for (const call of calls) safely(() => call(player));
  }

  // ------------------------------------------------------------------------------------------
  // End: every path releases the socket, the microphone, the player and the context

  function endRun(
    current: Run,
    status: Extract<ConversationStatus, 'ended' | 'error'>,
    error: ConversationError | null,
    reason: DisconnectReason,
  ): Promise<void> {
    if (current.ended) return current.released;
    current.ended = true;
    current.drainGrace.clear();
    safely(() => current.abort?.abort());
    disconnect(current);
    current.playerCalls = [];
    current.uplink.clear();
    const { capture, player, context } = current;
    current.capture = null;
    current.player = null;
    current.context = null;
    safely(() => capture?.stop());
    safely(() => player?.close());
    current.released = context === null ? Promise.resolve() : context.close().catch(() => {});
    if (current === run) {
      current.turn = INITIAL_TURN;
      update({ status, mode: INITIAL_TURN.mode, error });
      if (error !== null) events.emit('error', error);
      events.emit('disconnect', error !== null && reason.error === undefined ? { ...reason, error } : reason);
    }
    current.resolveStarted();
    return current.released;
  }

  // ------------------------------------------------------------------------------------------
  // Public surface

  /** The run in progress, or null. */
  function liveRun(): Run | null {
    return run !== null && !run.ended ? run : null;
  }

  function setMuted(isMuted: boolean): void {
    update({ isMuted });
    const capture = liveRun()?.capture;
    if (capture) safely(() => (isMuted ? capture.mute() : capture.unmute()));
  }

  return {
    store,
    start,
    stop(by: 'user' | 'unmount' = 'user') {
      if (run === null) return Promise.resolve();
      return endRun(run, 'ended', null, { by });
    },
    mute: () => setMuted(true),
    unmute: () => setMuted(false),
    setVolume(value: number) {
      if (typeof value !== 'number' || Number.isNaN(value)) return;
      volume = Math.min(1, Math.max(0, value));
      const player = liveRun()?.player;
      if (player) safely(() => player.setVolume(volume));
    },
    sendCustomInput(text: string) {
      const current = liveRun();
      if (current !== null && typeof text === 'string') current.uplink.customInput(current.conn, text);
    },
    getInputLevel: () => readLevel(liveRun()?.capture),
    getOutputLevel: () => readLevel(liveRun()?.player),
    getStats: () => stats.snapshot(liveRun()?.player),
    on: (event, listener) => events.on(event, listener),
    get options() {
      return options;
    },
    setOptions(next: ConversationOptions) {
      options = next;
    },
    setCallbacks(callbacks: ConversationCallbacks) {
      options = { ...withoutCallbacks(options), ...callbacks };
    },
  };
}

/** The options without their `on<Event>` callbacks. */
function withoutCallbacks(options: ConversationOptions): ConversationOptions {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!/^on[A-Z]/.test(key)) rest[key] = value;
  return rest as unknown as ConversationOptions;
}

function readLevel(source: { getLevel(): { rms: number } } | null | undefined): number {
  if (source === null || source === undefined) return 0;
  try {
    const rms = source.getLevel().rms;
    return Number.isFinite(rms) ? Math.min(1, Math.max(0, rms)) : 0;
  } catch {
    return 0;
  }
}
