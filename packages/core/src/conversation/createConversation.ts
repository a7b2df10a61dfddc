import { createStore } from 'zustand/vanilla';
import { captureFormatProblem, withCaptureDefaults } from '../audio/captureFormat.ts';
import { emptyFrequencyData } from '../audio/frequencyTap.ts';
import { setContextOutputDevice } from '../audio/outputDevice.ts';
import type { Player } from '../audio/types.ts';
import { VoicewireError } from '../errors.ts';
import { supportsOutputDeviceSelection } from '../platform/devices.ts';
import type { OutgoingFrame, Provider, ProviderSession, ProviderSocket } from '../providers/types.ts';
import { openAudioContext, startAudio } from './audioEngine.ts';
import { connect, disconnect } from './connection.ts';
import { errorText, fatalError, toConversationError } from './conversationError.ts';
import { defaultProvider } from './defaultProvider.ts';
import { drainThenEnd } from './drain.ts';
import { createEmitter } from './emitter.ts';
import { type LifecycleEvent, nextStatus } from './lifecycle.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { bargeIn, onServerFrame } from './providerEvents.ts';
import { type ConversationHost, createRun, type Run } from './run.ts';
import { noop, safely } from './safely.ts';
import { createStatsRecorder } from './stats.ts';
import { createTalkGate } from './talkGate.ts';
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
  ReadonlyStore,
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
  turnTaking: 'vad',
  talking: false,
}) as ConversationState;

/**
 * Create a live voice conversation with an agent. The `provider` option says which service and
 * wire protocol (`playai()` by default, `openaiRealtime()`, `elevenlabs()`…); everything else
 * works the same with every provider. Nothing happens until `start()` (no socket, no microphone,
 * no browser global touched), so it is safe to create during server-side rendering or a React
 * render.
 *
 * Each `start()` begins a run (run.ts) that lives until the conversation ends: its options are
 * resolved and checked (options.ts), the provider starts a session (providers/types.ts), the
 * AudioContext opens inside the user's gesture and the audio parts load (audioEngine.ts) while
 * the socket connects (connection.ts); the provider's events (providerEvents.ts) drive the status
 * (lifecycle.ts), turn-taking (turnTaking.ts), the transcript and the stats (stats.ts); every end
 * path goes through `endRun`, which releases everything.
 */
export function createConversation(initialOptions: ConversationOptions): Conversation {
  let options = initialOptions;
  /** Devices picked with setInputDevice/setOutputDevice: they win over the options, at every start. */
  const chosen: { input?: string | undefined; output?: string | undefined } = {};
  // Push-to-talk's gate between the microphone and the socket (talkGate.ts); it outlives runs.
  const talkGate = createTalkGate({
    turnTaking: initialOptions.turnTaking === 'pushToTalk' ? 'pushToTalk' : 'vad',
    ...(initialOptions.releaseTailMs !== undefined ? { tailMs: initialOptions.releaseTailMs } : {}),
  });
  const store = createStore<ConversationState>()(() => ({
    ...INITIAL_STATE,
    transcript: [],
    turnTaking: talkGate.turnTaking,
  }));
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
    ready(current, conversationId) {
      if (stale(current)) return;
      update({ status: lifecycle('ready'), conversationId, error: null });
    },
    lost(current, error) {
      if (stale(current)) return;
      host.turn(current, 'connectionLost', { status: lifecycle('connectionLost'), error });
    },
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
      if (current.ended || (current.audioReady && current.conn?.ready === true)) current.resolveStarted();
    },
    fail: (current, error, reason = { by: 'error' }) => void endRun(current, 'error', error, reason),
    endRun,
    drainThenEnd: (current, reason) => drainThenEnd(host, current, reason),
    stale,
    nextTurnId: () => `turn-${++turnCounter}`,
    message: (current, conn, data) => onServerFrame(host, current, conn, data),
  };

  /** The status after a lifecycle event (lifecycle.ts): the only way `status` changes. */
  function lifecycle(event: LifecycleEvent): ConversationStatus {
    return nextStatus(store.getState().status, event);
  }

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
    const resolved = resolveOptions({
      ...options,
      ...('input' in chosen ? { input: { ...options.input, deviceId: chosen.input } } : {}),
      ...('output' in chosen ? { output: { ...options.output, deviceId: chosen.output } } : {}),
    });
    const current = createRun(resolved.ok ? resolved.options : null, null);
    run = current;
    stats = current.stats;
    talkGate.reset();
    update({
      status: lifecycle('start'),
      mode: 'listening',
      conversationId: null,
      transcript: [],
      error: null,
      talking: false,
    });
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
    if (options.wakeLock !== false) {
      // The screen stays on for the call; endRun lets it go on every end path. Loaded with the
      // call, not with the page (it needs no user gesture).
      void import('../platform/wakeLock.ts').then(({ createWakeLock }) => {
        if (current.ended) return;
        current.wakeLock = createWakeLock();
        current.wakeLock.acquire();
      }, noop);
    }
    current.forgetPage = onPageHide(() => void endRun(current, 'ended', null, { by: 'unmount' }));
    const provider = resolved.options.provider ?? defaultProvider(options);
    if (provider instanceof Promise) {
      provider.then(
        (loaded) => {
          if (!current.ended) begin(current, loaded, opened.controller.context);
        },
        (error: unknown) => {
          const message = `The default provider (PlayAI) could not be loaded: ${errorText(error)}`;
          if (!current.ended) host.fail(current, fatalError('network', message), { by: 'network' });
        },
      );
    } else begin(current, provider, opened.controller.context);
    return current.started;
  }

  /** The provider starts its session; then the socket connects while the audio parts load. */
  function begin(current: Run, provider: Provider, context: AudioContext): void {
    const session = startSession(provider, current.options, talkGate.turnTaking);
    const problem = typeof session === 'string' ? session : sessionProblem(session, current.options.frameMs);
    if (problem !== null) {
      host.fail(current, fatalError('invalid-options', problem));
      return;
    }
    const ready = session as ProviderSession;
    current.session = ready;
    current.inputFormat = ready.input;
    current.outputFormat = ready.output;
    // A wire with its own push-to-talk control (OpenAI's commit) needs no run of silence after a release.
    talkGate.configure({
      encoding: ready.input.encoding,
      frameMs: current.options.frameMs,
      ...(ready.pushToTalkControl ? { tailMs: 0 } : {}),
    });
    connect(host, current);
    if (!current.ended) void loadAudio(current, context);
  }

  async function loadAudio(current: Run, context: AudioContext): Promise<void> {
    // Ending the run aborts a start still in progress (a worklet load on a context being closed
    // may otherwise never settle, holding the microphone it already opened).
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    current.abort = abort;
    const formats = { input: current.inputFormat!, output: current.outputFormat! };
    const error = await startAudio(current.options, formats, context, volume, abort?.signal, {
      ended: () => current.ended,
      frame: (captured) => {
        if (stale(current) || current.cancelDrain !== null) return;
        // Push-to-talk: only while held, then a short tail of silence, then nothing.
        const frame = talkGate.pass(captured);
        if (frame !== null) current.uplink.frame(current.conn, frame);
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
      if (current.turn.replyEnded) current.audioPending = false;
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

  /** Frames of the provider's for a control (turn-taking, push-to-talk), on a socket that is ready. */
  function sendControl(current: Run, frames: (socket: ProviderSocket) => OutgoingFrame[]): void {
    const conn = current.conn;
    if (conn === null || !conn.ready) return;
    let out: OutgoingFrame[] = [];
    safely(() => (out = frames(conn.socket)));
    for (const frame of out) current.uplink.send(conn, frame);
  }

  function endRun(
    current: Run,
    status: Extract<ConversationStatus, 'ended' | 'error'>,
    error: ConversationError | null,
    reason: DisconnectReason,
  ): Promise<void> {
    if (current.ended) return current.released;
    current.ended = true;
    const { cancelDrain, wakeLock, forgetPage } = current;
    current.cancelDrain = null;
    current.wakeLock = null;
    current.forgetPage = null;
    safely(() => forgetPage?.());
    safely(() => cancelDrain?.());
    if (wakeLock !== null) void wakeLock.release();
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
      talkGate.release();
      update({
        status: lifecycle(status === 'error' ? 'fail' : 'end'),
        mode: INITIAL_TURN.mode,
        error,
        talking: false,
      });
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

  const conversation: Conversation = {
    store: store as ReadonlyStore<ConversationState>,
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
      if (current !== null && typeof text === 'string') current.uplink.text(current.conn, text);
    },
    getInputLevel: () => readLevel(liveRun()?.capture),
    getOutputLevel: () => readLevel(liveRun()?.player),
    getStats: () => stats.snapshot(liveRun()?.player),
    getFrequencyData(source, out) {
      const current = liveRun();
      const part = source === 'output' ? current?.player : current?.capture;
      if (part?.getFrequencyData === undefined) return emptyFrequencyData(out);
      try {
        return part.getFrequencyData(out);
      } catch {
        return emptyFrequencyData(out);
      }
    },
    async setInputDevice(deviceId) {
      const capture = liveRun()?.capture;
      if (capture) await capture.setDevice(deviceId || undefined);
      // Also the device of the next start().
      chosen.input = deviceId || undefined;
    },
    async setOutputDevice(deviceId) {
      const context = liveRun()?.context?.context;
      if (context) await setContextOutputDevice(context, deviceId);
      else if (!supportsOutputDeviceSelection()) {
        throw new VoicewireError({
          kind: 'unsupported',
          message: 'This browser cannot choose the audio output device (no AudioContext.setSinkId).',
          fatal: false,
        });
      }
      chosen.output = deviceId || undefined;
    },
    setTurnTaking(turnTaking) {
      if (turnTaking !== 'vad' && turnTaking !== 'pushToTalk') return;
      if (turnTaking === talkGate.turnTaking) return;
      talkGate.setTurnTaking(turnTaking);
      const current = liveRun();
      // Between calls there is no turn to close.
      if (current === null) talkGate.reset();
      else sendControl(current, (socket) => socket.turnTaking(turnTaking));
      update({ turnTaking, talking: false });
    },
    pressToTalk() {
      const current = liveRun();
      if (current === null || current.cancelDrain !== null || !talkGate.press()) return;
      update({ talking: true });
      // Taking the floor silences the agent now, locally; the server's barge-in follows.
      const speaking = store.getState().mode === 'agentSpeaking';
      if (speaking || current.audioPending) {
        bargeIn(host, current, current.conn, true);
        host.turn(current, 'userSpeechStarted');
      }
      sendControl(current, (socket) => socket.talkPressed());
    },
    releaseToTalk() {
      if (!talkGate.release()) return;
      update({ talking: false });
      const current = liveRun();
      if (current !== null) sendControl(current, (socket) => socket.talkReleased());
    },
    on: (event, listener) => events.on(event, listener),
    get options() {
      return options;
    },
    setOptions(next: ConversationOptions) {
      const turnTaking = next.turnTaking ?? 'vad';
      // Turn-taking applies at once (no reconnect), as setTurnTaking.
      if (turnTaking !== (options.turnTaking ?? 'vad')) conversation.setTurnTaking(turnTaking);
      options = next;
    },
    setCallbacks(callbacks: ConversationCallbacks) {
      options = { ...withoutCallbacks(options), ...callbacks };
    },
  };
  return conversation;
}

/** What is wrong with the wire format a provider chose, or null. */
function sessionProblem(session: ProviderSession, frameMs: number): string | null {
  return captureFormatProblem(withCaptureDefaults({ ...session.input, frameMs }), 'input.');
}

/** The provider's session for a run, or the message of an `invalid-options` error. Never throws. */
function startSession(
  provider: Provider,
  resolved: ResolvedOptions,
  turnTaking: 'vad' | 'pushToTalk',
): ProviderSession | string {
  try {
    return provider.start({
      url: resolved.url,
      input: resolved.wantedInput,
      output: resolved.wantedOutput,
      continueConversation: resolved.continueConversation,
      turnTaking,
    });
  } catch (error) {
    return `The provider could not start: ${errorText(error)}`;
  }
}

/**
 * The page is going away (closed, navigated from, discarded after being hidden): end the call
 * properly rather than leave the socket and the microphone to the browser's teardown.
 */
function onPageHide(end: () => void): (() => void) | null {
  const target = globalThis as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
  if (typeof target.addEventListener !== 'function') return null;
  target.addEventListener('pagehide', end);
  return () => target.removeEventListener?.('pagehide', end);
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
