import { captureFormatProblem, withCaptureDefaults } from '../audio/captureFormat.ts';
import { emptyFrequencyData } from '../audio/frequencyData.ts';
import { preloadAudioEngine } from '../audio/lazyEngine.ts';
import type { Player } from '../audio/types.ts';
import type {
  OutgoingFrame,
  Provider,
  ProviderSession,
  ProviderSocket,
  WireInputFormat,
} from '../providers/types.ts';
import type { OpenedAudioContext } from './audioContext.ts';
import { startAudio } from './audioEngine.ts';
import { connect, disconnect } from './connection.ts';
import { errorText, fatalError, toConversationError } from './conversationError.ts';
import { defaultProvider } from './defaultProvider.ts';
import { drainThenEnd } from './drain.ts';
import { type LifecycleEvent, nextStatus } from './lifecycle.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { bargeIn, onServerFrame } from './providerEvents.ts';
import { type ConversationHost, createRun, type Run } from './run.ts';
import { noop, safely } from './safely.ts';
import type { Shell } from './shell.ts';
import { createStatsRecorder } from './stats.ts';
import { DRAIN_GRACE_MS, INITIAL_TURN, nextTurn } from './turnTaking.ts';
import type {
  ConversationError,
  ConversationOptions,
  ConversationStats,
  ConversationStatus,
  DisconnectReason,
} from './types.ts';

/** Player calls held while the player is still loading (greeting audio can arrive first). */
const MAX_QUEUED_PLAYER_CALLS = 4_096;

/**
 * What runs a call, loaded at the first `start()` (a page that shows a talk button but is never
 * used does not download it): each `start()` begins a run (run.ts) that lives until the call
 * ends. Its options are resolved and checked (options.ts), the provider starts a session
 * (providers/types.ts), the socket connects (connection.ts) while the audio parts load
 * (audioEngine.ts); the provider's events (providerEvents.ts) drive the status (lifecycle.ts),
 * turn-taking (turnTaking.ts), the transcript and the stats (stats.ts); every end path goes
 * through `endRun`, which releases everything. The conversation (createConversation.ts) keeps
 * the state, the events and the options, and hands its methods here once a call has begun.
 */
export interface Engine {
  start(opened: OpenedAudioContext): Promise<void>;
  /** The call in progress's `start()` promise, or null. */
  started(): Promise<void> | null;
  stop(by: 'user' | 'unmount'): Promise<void>;
  /** A call is in progress (connecting to ending). */
  live(): boolean;
  muted(isMuted: boolean): void;
  setVolume(volume: number): void;
  sendCustomInput(text: string): void;
  getInputLevel(): number;
  getOutputLevel(): number;
  getStats(): ConversationStats;
  getFrequencyData(source: 'input' | 'output', out?: Uint8Array): Uint8Array;
  setInputDevice(deviceId: string | undefined): Promise<void>;
  /** The live call's AudioContext, or null. */
  liveContext(): AudioContext | null;
  turnTakingChanged(turnTaking: 'vad' | 'pushToTalk'): void;
  pressToTalk(): void;
  releaseToTalk(): void;
}

export function createEngine(shell: Shell): Engine {
  const { store, events, update, talkGate, chosen } = shell;
  let run: Run | null = null;
  let stats = createStatsRecorder();

  const host: ConversationHost = {
    store,
    events,
    options: shell.options,
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
    nextTurnId: shell.nextTurnId,
    message: (current, conn, data) => onServerFrame(host, current, conn, data),
  };

  /** The status after a lifecycle event (lifecycle.ts): the only way `status` changes. */
  function lifecycle(event: LifecycleEvent): ConversationStatus {
    return nextStatus(store.getState().status, event);
  }

  /** A run that ended, or was replaced by a newer `start()`: its late events are ignored. */
  function stale(current: Run): boolean {
    return current !== run || current.ended;
  }

  // ------------------------------------------------------------------------------------------
  // Start: options, the AudioContext (inside the gesture), the socket and the audio parts

  /**
   * Begin a call on the AudioContext the shell opened inside the user's gesture: options, the
   * provider's session, then the socket and the audio parts.
   */
  function start(opened: OpenedAudioContext): Promise<void> {
    const live = liveRun();
    if (live !== null) {
      if (opened.ok) void opened.controller.close().catch(noop);
      return live.started;
    }
    const options = shell.options();
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
    if (opened.ok) current.context = opened.controller;
    if (!resolved.ok) {
      host.fail(current, fatalError('invalid-options', resolved.message));
      return current.started;
    }
    if (!opened.ok) {
      host.fail(current, opened.error);
      return current.started;
    }
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
    begin(current, resolved.options.provider ?? defaultProvider(options), opened.controller.context);
    return current.started;
  }

  /** The provider starts its session (its protocol may load first); then the call begins. */
  function begin(current: Run, provider: Provider, context: AudioContext): void {
    const session = startSession(provider, current.options, talkGate.turnTaking);
    if (!(session instanceof Promise)) {
      beginSession(current, session, context);
      return;
    }
    session.then(
      (started) => {
        if (!current.ended) beginSession(current, started, context);
      },
      (error: unknown) => {
        const message = `The ${provider.name} provider could not be loaded: ${errorText(error)}`;
        if (!current.ended) host.fail(current, fatalError('network', message), { by: 'network' });
      },
    );
  }

  /** The socket connects while the audio parts load. */
  function beginSession(current: Run, session: ProviderSession | string, context: AudioContext): void {
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
    const configureGate = (encoding: WireInputFormat['encoding']) =>
      talkGate.configure({
        encoding,
        frameMs: current.options.frameMs,
        ...(ready.pushToTalkControl ? { tailMs: 0 } : {}),
      });
    configureGate(ready.input.encoding);
    // The server may announce another input format once connected (ElevenLabs' metadata): the
    // capture follows (now, or when it opens), and so does the silence push-to-talk sends.
    const setInputFormat = current.setInputFormat;
    current.setInputFormat = (format) => {
      setInputFormat(format);
      configureGate(format.encoding);
    };
    connect(host, current);
    if (!current.ended) void loadAudio(current, context);
  }

  async function loadAudio(current: Run, context: AudioContext): Promise<void> {
    // Ending the run aborts a start still in progress (a worklet load on a context being closed
    // may otherwise never settle, holding the microphone it already opened).
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    current.abort = abort;
    const formats = { input: current.inputFormat!, output: current.outputFormat! };
    const error = await startAudio(current.options, formats, context, shell.volume(), abort?.signal, {
      ended: () => current.ended,
      frame: (captured, echo) => {
        if (stale(current) || current.cancelDrain !== null) return;
        // Push-to-talk: only while held, then a short tail of silence, then nothing. VAD: the
        // echo guard's verdict holds back a frame that is only the agent's echo. Muted: silence,
        // whatever the capture delivers (frames captured before it was handed over and muted, as
        // it confirms the microphone is live first, or still in flight from the audio thread
        // when mute() was called).
        const muted = store.getState().isMuted;
        const frame = talkGate.pass(captured, echo, muted);
        if (frame === null) return;
        if (echo && !muted && talkGate.turnTaking === 'vad') current.stats.totals.framesHeldBack += 1;
        current.uplink.frame(current.conn, frame);
      },
      captureFailed: (failure) => {
        if (!current.ended) host.fail(current, failure);
      },
      capture: (capture) => {
        // Held by the run from now on, so every end path stops it even while the player still loads.
        current.capture = capture;
        if (store.getState().isMuted) safely(() => capture.mute());
        // Announced while the capture was opening: it opened in the format asked for before.
        const wanted = current.inputFormat;
        if (
          wanted !== null &&
          (wanted.sampleRate !== capture.sampleRate || wanted.encoding !== capture.encoding)
        )
          safely(() => capture.setFormat?.(wanted));
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
  // What the conversation's public methods do once a call has begun (createConversation.ts)

  /** The run in progress, or null. */
  function liveRun(): Run | null {
    return run !== null && !run.ended ? run : null;
  }

  return {
    start,
    started: () => liveRun()?.started ?? null,
    stop(by) {
      if (run === null) return Promise.resolve();
      return endRun(run, 'ended', null, { by });
    },
    live: () => liveRun() !== null,
    muted(isMuted) {
      const capture = liveRun()?.capture;
      if (capture) safely(() => (isMuted ? capture.mute() : capture.unmute()));
    },
    setVolume(volume) {
      const player = liveRun()?.player;
      if (player) safely(() => player.setVolume(volume));
    },
    sendCustomInput(text) {
      const current = liveRun();
      if (current !== null) current.uplink.text(current.conn, text);
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
      if (capture) await capture.setDevice(deviceId);
    },
    liveContext: () => liveRun()?.context?.context ?? null,
    turnTakingChanged(turnTaking) {
      const current = liveRun();
      if (current !== null) sendControl(current, (socket) => socket.turnTaking(turnTaking));
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
  };
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
): ProviderSession | string | Promise<ProviderSession | string> {
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

function readLevel(source: { getLevel(): { rms: number } } | null | undefined): number {
  if (source === null || source === undefined) return 0;
  try {
    const rms = source.getLevel().rms;
    return Number.isFinite(rms) ? Math.min(1, Math.max(0, rms)) : 0;
  } catch {
    return 0;
  }
}

/**
 * Load now what a call will need (the audio engine, the provider's protocol), so the first
 * `start()` waits for nothing but the network.
 */
export function preloadCall(options: ConversationOptions): void {
  preloadAudioEngine();
  safely(() => (options.provider ?? defaultProvider(options)).preload?.());
}
