import { createStore } from 'zustand/vanilla';
import type { AudioContextController } from '../audio/createAudioContextController.ts';
import { emptyFrequencyData } from '../audio/frequencyTap.ts';
import { setContextOutputDevice } from '../audio/outputDevice.ts';
import type { Capture, CaptureEncoding, Player } from '../audio/types.ts';
import { decodeBase64, encodeBase64 } from '../codec/base64.ts';
import { isVoicewireError, VoicewireError, type VoicewireErrorKind } from '../errors.ts';
import { supportsOutputDeviceSelection } from '../platform/devices.ts';
import { createWakeLock, type WakeLockHandle } from '../platform/wakeLock.ts';
import { describeErrorCode, errorFromServerMessage, isKnownErrorCode } from '../protocol/errorCodes.ts';
import {
  MAX_SAMPLE_RATE_HZ,
  MIN_SAMPLE_RATE_HZ,
  OUTPUT_FORMATS,
  type OutputFormat,
  type ServerMessage,
} from '../protocol/messages.ts';
import { parseServerMessage } from '../protocol/parseServerMessage.ts';
import { createSetupMessage } from '../protocol/validateSetup.ts';
import { defaultCreateCapture, defaultCreatePlayer, openAudioContext } from './audioEngine.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS, waitForPlayout } from './drain.ts';
import { reconnectDelayMs, resolveReconnectPolicy } from './reconnectPolicy.ts';
import { buildSocketUrl } from './socketUrl.ts';
import { createTalkGate } from './talkGate.ts';
import { interruptAgentTurn, mergeTranscript } from './transcript.ts';
import type {
  Conversation,
  ConversationCallbacks,
  ConversationError,
  ConversationEventMap,
  ConversationMode,
  ConversationOptions,
  ConversationState,
  ConversationStats,
  ConversationStatus,
  DisconnectReason,
} from './types.ts';

/**
 * The output format asked of the agent unless the integrator picks one: 16-bit PCM WAV at 24 kHz.
 * Measured (README "Output format"): in Chromium, `pnpm bench audio-engine` puts wav, raw and
 * mulaw at 29 ms from first chunk to audible (the jitter buffer), mp3 at 83 ms, flac 52 ms, ogg
 * 369 ms, and wav costs half of raw's main-thread time; in Node, mp3/flac need 250–700 ms to load
 * their WASM decoder where PCM needs ~2 ms. wav carries 16-bit samples in half the bytes of raw
 * float32 (63 vs 126 KiB/s at 24 kHz) and μ-law's 8 bits are telephone quality. 24 kHz covers the
 * voice's band at about half the bytes of 44.1/48 kHz.
 */
export const DEFAULT_OUTPUT_FORMAT: OutputFormat = 'wav';
export const DEFAULT_OUTPUT_SAMPLE_RATE_HZ = 24_000;
export const DEFAULT_INPUT_ENCODING: CaptureEncoding = 'linear16';
export const DEFAULT_INPUT_SAMPLE_RATE_HZ = 16_000;
export const DEFAULT_FRAME_MS = 20;
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
 * How long the player may run dry in the middle of a reply (no `audioStreamEnd` yet) before the
 * mode says the agent has stopped: late network chunks must not flicker `agentSpeaking`.
 */
export const DRAIN_GRACE_MS = 300;
/** After this long the player's interruption measurement is surely the latest one. */
const INTERRUPTION_SETTLE_MS = 100;
/** Player calls held while the player is still loading (greeting audio can arrive first). */
const MAX_PENDING_PLAYER_OPS = 4_096;

const WS_OPEN = 1;
const WS_CONNECTING = 0;
const NORMAL_CLOSURE = 1000;

type Listener = (...args: never[]) => void;

interface Connection {
  ws: WebSocket;
  setupSent: boolean;
  initReceived: boolean;
  /** A non-fatal server error seen on this socket; decides what its close means. */
  lastError: ConversationError | null;
}

/** One `start()` … end: the mic, the context and the player live this long; sockets may come and go. */
interface Run {
  ended: boolean;
  context: AudioContextController | null;
  capture: Capture | null;
  /** Cancels the capture and player still loading when the run ends. */
  abort: AbortController | undefined;
  player: Player | null;
  pendingPlayerOps: ((player: Player) => void)[];
  /** Frames captured while no session was set up, copied (the capture may recycle its buffers). */
  pendingFrames: Uint8Array[];
  pendingCustomInputs: string[];
  conn: Connection | null;
  connectTimer: ReturnType<typeof setTimeout> | null;
  reconnectTimer: ReturnType<typeof setTimeout> | null;
  /** The server sent `audioStreamEnd` for the reply now playing. */
  streamEnded: boolean;
  /** Pending switch to `listening` after the player ran dry before the reply's end. */
  drainTimer: ReturnType<typeof setTimeout> | null;
  /** The mode went to `listening` on such a drain: more audio of the reply means it resumed. */
  resumableDrain: boolean;
  /** Counts connection attempts, so a late token or timer of an abandoned one is ignored. */
  attemptSeq: number;
  /** Failed reconnect attempts since the last successful `init`. */
  attempt: number;
  everConnected: boolean;
  audioReady: boolean;
  conversationId: string | null;
  /** When the current turn started waiting for the agent (voiceActivityEnd, or init for the greeting). */
  awaitingAudioSince: number | null;
  /**
   * An interruption of audible agent audio waiting for its measurement: the player reports the
   * fade's end (`lastInterruptionMs`) asynchronously, so it is collected on the next poll.
   */
  interruptionPending: { at: number; previous: number | null | undefined } | null;
  interruptionMsBefore: number | null | undefined;
  resolveStarted: () => void;
  started: Promise<void>;
  released: Promise<void>;
  /** Agent audio was queued and has not played out yet (cleared by the player's `drained`). */
  audioPending: boolean;
  /** The screen wake lock, held for the run (null with `wakeLock: false`). */
  wakeLock: WakeLockHandle | null;
  /** Set while `ending`: cuts the drain short (a user `stop()`). */
  cancelDrain: (() => void) | null;
}

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
 * Create a live voice conversation with an agent over the talk protocol. Nothing happens until
 * `start()` (no socket, no microphone, no browser global touched), so it is safe to create during
 * server-side rendering or a React render.
 */
export function createConversation(options: ConversationOptions): Conversation {
  const talkGate = createTalkGate({
    turnTaking: options.turnTaking === 'pushToTalk' ? 'pushToTalk' : 'vad',
    encoding: options.input?.encoding ?? DEFAULT_INPUT_ENCODING,
    frameMs: options.input?.frameMs ?? DEFAULT_FRAME_MS,
    ...(options.releaseTailMs !== undefined ? { tailMs: options.releaseTailMs } : {}),
  });
  const store = createStore<ConversationState>()(() => ({
    ...INITIAL_STATE,
    transcript: [],
    turnTaking: talkGate.turnTaking,
  }));
  let callbacks: ConversationCallbacks = options;
  const listeners = new Map<keyof ConversationEventMap, Set<Listener>>();
  let run: Run | null = null;
  let volume = 1;
  /** Devices chosen with setInputDevice/setOutputDevice: they win over the options, also at the next start. */
  let inputDeviceId = options.input?.deviceId;
  let outputDeviceId = options.output?.deviceId;
  let turnCounter = 0;
  let stats = emptyStats();
  const reconnectPolicy = resolveReconnectPolicy(options.reconnect);

  const input = {
    encoding: options.input?.encoding ?? DEFAULT_INPUT_ENCODING,
    sampleRate: options.input?.sampleRate ?? DEFAULT_INPUT_SAMPLE_RATE_HZ,
    frameMs: options.input?.frameMs ?? DEFAULT_FRAME_MS,
  };
  const output = {
    format: options.output?.format ?? DEFAULT_OUTPUT_FORMAT,
    sampleRate: options.output?.sampleRate ?? DEFAULT_OUTPUT_SAMPLE_RATE_HZ,
  };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const maxPendingFrames = Math.max(1, Math.ceil(PENDING_AUDIO_MS / input.frameMs));
  const backlogFrames = Math.max(1, Math.ceil(MAX_SEND_BACKLOG_MS / input.frameMs));

  // ------------------------------------------------------------------------------------------
  // Events and store

  function emit<E extends keyof ConversationEventMap>(
    event: E,
    ...args: Parameters<ConversationEventMap[E]>
  ): void {
    // `connect` → `onConnect`, and so on (the types below keep the two lists in step).
    const callback =
      callbacks[`on${event[0]?.toUpperCase()}${event.slice(1)}` as keyof ConversationCallbacks];
    if (typeof callback === 'function')
      guard(() => (callback as (...a: typeof args) => void)(...args), CALLBACK_THREW);
    const set = listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      guard(() => (listener as unknown as (...a: typeof args) => void)(...args), CALLBACK_THREW);
    }
  }

  /** Writes only what changed, so subscribers never see a no-op update. */
  function update(patch: Partial<ConversationState>): void {
    const state = store.getState();
    const keys = Object.keys(patch) as (keyof ConversationState)[];
    if (keys.every((key) => Object.is(state[key], patch[key]))) return;
    store.setState(patch);
    if (patch.status !== undefined && patch.status !== state.status) emit('statusChange', patch.status);
    if (patch.mode !== undefined && patch.mode !== state.mode) emit('modeChange', patch.mode);
  }

  function setMode(mode: ConversationMode): void {
    update({ mode });
  }

  function nextTurnId(): string {
    turnCounter += 1;
    return `turn-${turnCounter}`;
  }

  // ------------------------------------------------------------------------------------------
  // Start

  function start(): Promise<void> {
    if (run !== null && !run.ended) return run.started;
    const current = createRun();
    run = current;
    stats = emptyStats();
    talkGate.release();
    update({
      status: 'connecting',
      mode: 'listening',
      conversationId: null,
      transcript: [],
      error: null,
      talking: false,
    });

    const invalid = validateOptions(options, input, output);
    if (invalid !== null) {
      fail(current, fatalError('invalid-options', invalid));
      return current.started;
    }

    // Inside the user's gesture, before any await: iOS Safari only lets a context created or
    // resumed synchronously in the gesture make sound.
    const opened = openAudioContext({
      AudioContext: options.AudioContext,
      sinkId: outputDeviceId,
    });
    if (!opened.ok) {
      fail(current, opened.error);
      return current.started;
    }
    current.context = opened.controller;
    if (options.wakeLock !== false) {
      current.wakeLock = createWakeLock();
      current.wakeLock.acquire();
    }

    openSocket(current);
    if (!current.ended) void startAudio(current, opened.controller.context);
    return current.started;
  }

  function createRun(): Run {
    let resolveStarted = (): void => {};
    const started = new Promise<void>((resolve) => {
      resolveStarted = resolve;
    });
    return {
      ended: false,
      context: null,
      capture: null,
      abort: undefined,
      player: null,
      pendingPlayerOps: [],
      pendingFrames: [],
      pendingCustomInputs: [],
      conn: null,
      connectTimer: null,
      reconnectTimer: null,
      streamEnded: false,
      drainTimer: null,
      resumableDrain: false,
      attemptSeq: 0,
      attempt: 0,
      everConnected: false,
      audioReady: false,
      conversationId: null,
      awaitingAudioSince: null,
      interruptionPending: null,
      interruptionMsBefore: undefined,
      resolveStarted,
      started,
      released: Promise.resolve(),
      audioPending: false,
      wakeLock: null,
      cancelDrain: null,
    };
  }

  async function startAudio(current: Run, context: AudioContext): Promise<void> {
    const createCapture = options.audio?.createCapture ?? defaultCreateCapture;
    const createPlayer = options.audio?.createPlayer ?? defaultCreatePlayer;
    const inputOptions = options.input ?? {};
    // Ending the run aborts a start still in progress (a worklet load on a context being closed
    // may otherwise never settle, holding the microphone it already opened).
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    current.abort = abort;
    const signal = abort?.signal;
    const captureOptions: Parameters<typeof createCapture>[0] = {
      sampleRate: input.sampleRate,
      encoding: input.encoding,
      frameMs: input.frameMs,
      context,
      signal,
      onFrame: (frame) => onFrame(current, frame),
      onError: (error) => {
        if (!current.ended) fail(current, toConversationError(error, 'microphone-lost'));
      },
    };
    // Only what the integrator set: the engine's defaults apply to the rest.
    for (const key of ['echoCancellation', 'noiseSuppression', 'autoGainControl'] as const) {
      if (inputOptions[key] !== undefined)
        (captureOptions as unknown as Record<string, unknown>)[key] = inputOptions[key];
    }
    if (inputDeviceId !== undefined && inputDeviceId !== '') captureOptions.deviceId = inputDeviceId;
    if (options.getUserMedia !== undefined) captureOptions.getUserMedia = options.getUserMedia;
    if (options.worklets !== undefined) captureOptions.worklets = options.worklets;
    const playerOptions: Parameters<typeof createPlayer>[0] = {
      format: output.format,
      sampleRate: output.sampleRate,
      context,
      volume,
      signal,
    };
    if (options.worklets !== undefined) playerOptions.worklets = options.worklets;

    const capturePromise = callAsync(() => createCapture(captureOptions));
    const playerPromise = callAsync(() => createPlayer(playerOptions));
    // A part that loads after the end is released the moment it resolves, whether or not the
    // other ever settles: a worklet load on a closed context may hang, and the mic must not.
    // Held by the run from then on, so every end path stops it even while the player still loads.
    capturePromise.then((capture) => {
      if (current.ended) return safely(() => capture.stop());
      current.capture = capture;
      if (store.getState().isMuted) safely(() => capture.mute());
    }, noop);
    // The player goes live as soon as it is ready, without waiting for the microphone: the
    // greeting must not wait for the user to answer the permission prompt.
    playerPromise.then((player) => {
      if (current.ended) safely(() => player.close());
      else guard(() => attachPlayer(current, player));
    }, noop);
    const [captureResult, playerResult] = await Promise.allSettled([capturePromise, playerPromise]);
    // An end path got here first: it released whatever had loaded.
    if (current.ended) return;
    if (captureResult.status === 'rejected') {
      fail(current, toConversationError(captureResult.reason, 'microphone-unavailable'));
      return;
    }
    if (playerResult.status === 'rejected') {
      fail(current, toConversationError(playerResult.reason, 'audio-context'));
      return;
    }
    current.audioReady = true;
    maybeResolveStarted(current);
  }

  function attachPlayer(current: Run, player: Player): void {
    current.player = player;
    // No unsubscribing: a closed player is dropped, and each listener ignores a stale run.
    player.on('started', () => {
      if (stale(current)) return;
      collectInterruption(current);
      // The player's measurement before this stream: a later change belongs to its interruption.
      current.interruptionMsBefore = readInterruptionMs(player);
      if (current.awaitingAudioSince !== null) {
        stats.timeToFirstAudioMs.push(Math.max(0, now() - current.awaitingAudioSince));
        current.awaitingAudioSince = null;
      }
      setMode('agentSpeaking');
    });
    player.on('drained', () => {
      if (current.streamEnded) current.audioPending = false;
      if (stale(current) || store.getState().mode !== 'agentSpeaking') return;
      if (current.streamEnded) {
        setMode('listening');
        return;
      }
      // The queue ran dry before the server said the reply was complete: the end, or the
      // network running late. Wait a moment; more audio of the same reply (an `underrun`)
      // means the agent is still talking.
      clearTimer(current, 'drainTimer');
      current.drainTimer = setTimeout(() => {
        current.drainTimer = null;
        if (stale(current) || store.getState().mode !== 'agentSpeaking') return;
        current.resumableDrain = true;
        setMode('listening');
      }, DRAIN_GRACE_MS);
    });
    player.on('underrun', () => {
      if (stale(current)) return;
      clearTimer(current, 'drainTimer');
      // The reply resumed after it had been taken for finished: the agent is audible again.
      if (current.resumableDrain && store.getState().mode === 'listening') setMode('agentSpeaking');
      current.resumableDrain = false;
    });
    player.on('error', (error) => {
      if (stale(current)) return;
      emit('error', { ...toConversationError(error, 'decode'), fatal: false });
    });
    const ops = current.pendingPlayerOps;
    current.pendingPlayerOps = [];
    for (const op of ops) safely(() => op(player));
  }

  /** Run `op` on the player now, or as soon as it has loaded. */
  function withPlayer(current: Run, op: (player: Player) => void): void {
    if (current.player !== null) {
      safely(() => op(current.player as Player));
      return;
    }
    if (current.pendingPlayerOps.length < MAX_PENDING_PLAYER_OPS) current.pendingPlayerOps.push(op);
  }

  /**
   * Record the last interruption's time to silence once the player has measured it: the delay
   * from `voiceActivityStart` to `interrupt()` (we call it first thing) plus the fade, which the
   * player times on the audio clock.
   */
  function collectInterruption(current: Run): void {
    const pending = current.interruptionPending;
    if (pending === null || current.player === null) return;
    const measured = readInterruptionMs(current.player);
    if (measured === null || measured === undefined) return;
    if (measured === pending.previous && now() - pending.at < INTERRUPTION_SETTLE_MS) return;
    current.interruptionPending = null;
    stats.interruptionMs.push(measured);
  }

  function maybeResolveStarted(current: Run): void {
    if (current.ended || (current.audioReady && current.conn?.initReceived === true))
      current.resolveStarted();
  }

  // ------------------------------------------------------------------------------------------
  // Socket

  /** One connection attempt: a fresh token when `getToken` is given, the socket, setup, init. */
  function openSocket(current: Run): void {
    current.attemptSeq += 1;
    const seq = current.attemptSeq;
    clearTimer(current, 'connectTimer');
    // The timeout covers the whole attempt: the token, the socket opening and the agent's init.
    current.connectTimer = setTimeout(() => guard(() => onConnectTimeout(current, seq)), connectTimeoutMs);
    const getToken = options.getToken;
    if (getToken === undefined) {
      connectSocket(current, options.token);
      return;
    }
    callAsync(async () => getToken()).then(
      (token) => {
        if (current.ended || current.attemptSeq !== seq) return;
        guard(() => connectSocket(current, typeof token === 'string' ? token : undefined));
      },
      (error: unknown) => {
        if (current.ended || current.attemptSeq !== seq) return;
        const failure = fatalError('network', `Could not get a session token: ${errorText(error)}`);
        clearTimer(current, 'connectTimer');
        if (!current.everConnected) fail(current, failure, { by: 'network' });
        else scheduleReconnect(current, { ...failure, fatal: false });
      },
    );
  }

  function connectSocket(current: Run, token: string | undefined): void {
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (WebSocketImpl === undefined) {
      fail(current, fatalError('unsupported', 'This browser has no WebSocket.'));
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocketImpl(buildSocketUrl(options.agentId, options.url, token));
    } catch (error) {
      fail(
        current,
        fatalError(
          'invalid-options',
          `The socket could not be opened: ${errorText(error)} (check the "url" option).`,
        ),
      );
      return;
    }
    const conn: Connection = { ws, setupSent: false, initReceived: false, lastError: null };
    current.conn = conn;
    ws.onopen = () => guard(() => onOpen(current, conn));
    ws.onmessage = (event: MessageEvent) => guard(() => onSocketMessage(current, conn, event.data));
    ws.onclose = (event: CloseEvent) => guard(() => onSocketClose(current, conn, event.code, event.reason));
    // A failed socket always closes afterwards; the close event carries what there is to know.
    ws.onerror = noop;
  }

  function onOpen(current: Run, conn: Connection): void {
    if (current.conn !== conn || current.ended) return;
    const setup = createSetupMessage({
      apiKey: options.apiKey,
      outputFormat: output.format,
      outputSampleRate: output.sampleRate,
      inputEncoding: input.encoding,
      inputSampleRate: input.sampleRate,
      customGreeting: options.customGreeting,
      prompt: options.prompt,
      continueConversation: current.conversationId ?? options.continueConversation,
    });
    if (!sendRaw(conn, JSON.stringify(setup))) return;
    conn.setupSent = true;
    const frames = current.pendingFrames;
    current.pendingFrames = [];
    for (const frame of frames) sendFrame(current, frame);
    const inputs = current.pendingCustomInputs;
    current.pendingCustomInputs = [];
    for (const text of inputs) sendRaw(conn, customInput(text));
  }

  function sendRaw(conn: Connection, text: string): boolean {
    if (conn.ws.readyState !== WS_OPEN) return false;
    try {
      conn.ws.send(text);
    } catch {
      return false;
    }
    stats.bytesSent += text.length;
    return true;
  }

  function onFrame(current: Run, captured: Uint8Array): void {
    if (stale(current) || current.cancelDrain !== null) return;
    const frame = talkGate.pass(captured);
    if (frame === null) return;
    const conn = current.conn;
    if (conn === null || !conn.setupSent || conn.ws.readyState !== WS_OPEN) {
      if (current.pendingFrames.length >= maxPendingFrames) {
        current.pendingFrames.shift();
        stats.framesDropped += 1;
      }
      current.pendingFrames.push(frame.slice());
      return;
    }
    sendFrame(current, frame);
  }

  function sendFrame(current: Run, frame: Uint8Array): void {
    const conn = current.conn;
    if (conn === null) return;
    const text = `{"type":"audioIn","data":"${encodeBase64(frame)}"}`;
    if (conn.ws.bufferedAmount + text.length > text.length * backlogFrames) {
      stats.framesDropped += 1;
      return;
    }
    if (sendRaw(conn, text)) stats.framesSent += 1;
    else stats.framesDropped += 1;
  }

  function onConnectTimeout(current: Run, seq: number): void {
    current.connectTimer = null;
    if (current.ended || current.attemptSeq !== seq || current.conn?.initReceived === true) return;
    const error = fatalError('timeout', `The voice agent did not answer within ${connectTimeoutMs} ms.`);
    if (!current.everConnected) {
      fail(current, error, { by: 'network' });
      return;
    }
    dropSocket(current);
    scheduleReconnect(current, { ...error, fatal: false });
  }

  function onSocketClose(current: Run, conn: Connection, code: number, reason: string): void {
    if (current.conn !== conn || current.ended) return;
    current.conn = null;
    clearTimer(current, 'connectTimer');
    const closeCode = typeof code === 'number' ? code : undefined;
    const coded =
      closeCode !== undefined && isKnownErrorCode(closeCode) ? describeErrorCode(closeCode) : undefined;
    const codedError =
      coded && errorFromServerMessage({ type: 'error', code: coded.code, message: reason ?? '' }).toJSON();
    if (codedError && !coded.retryable) {
      fail(current, { ...codedError, fatal: true }, withCode({ by: 'error', error: codedError }, closeCode));
      return;
    }
    const last = conn.lastError;
    if (last !== null && !(last.code !== undefined && describeErrorCode(last.code).retryable)) {
      const error = { ...last, fatal: true };
      fail(current, error, withCode({ by: 'error', error }, closeCode));
      return;
    }
    if (coded === undefined && last === null && closeCode === NORMAL_CLOSURE) {
      // The server closed the conversation on purpose without a `hangup`: over, not lost. Right
      // after a reply's end, that reply plays out first.
      if (current.streamEnded) drainThenEnd(current, withCode({ by: 'agent' }, closeCode));
      else void endRun(current, 'ended', null, withCode({ by: 'agent' }, closeCode));
      return;
    }
    let error: ConversationError;
    if (codedError) {
      error = { ...codedError, fatal: false };
    } else if (last !== null) {
      error = { ...last, fatal: false };
    } else {
      error = {
        kind: 'network',
        message: `${current.everConnected ? 'The connection to the voice agent was lost' : 'Could not connect to the voice agent'} (close code ${closeCode ?? 'none'}).`,
        fatal: false,
      };
      if (!current.everConnected) {
        // Nothing to resume and most likely a wrong URL or a server that is down: say so now.
        const fatal = { ...error, fatal: true };
        fail(current, fatal, withCode({ by: 'network' }, closeCode));
        return;
      }
    }
    scheduleReconnect(current, error, closeCode, coded === undefined && last !== null);
  }

  function scheduleReconnect(
    current: Run,
    error: ConversationError,
    closeCode?: number,
    alreadyReported = false,
  ): void {
    if (reconnectPolicy === null || current.attempt >= reconnectPolicy.maxAttempts) {
      const fatal: ConversationError = {
        ...error,
        message:
          reconnectPolicy === null || reconnectPolicy.maxAttempts === 0
            ? error.message
            : `${error.message} Gave up after ${current.attempt} reconnect attempts.`,
        fatal: true,
      };
      const by = error.kind === 'network' || error.kind === 'timeout' ? 'network' : 'error';
      fail(current, fatal, withCode({ by, error: fatal }, closeCode));
      return;
    }
    const delay = reconnectDelayMs(reconnectPolicy, current.attempt);
    current.attempt += 1;
    stats.reconnects += 1;
    const mode = store.getState().mode;
    update({ status: 'reconnecting', error, mode: mode === 'agentSpeaking' ? mode : 'listening' });
    if (!alreadyReported) emit('error', error);
    current.reconnectTimer = setTimeout(() => {
      current.reconnectTimer = null;
      if (stale(current)) return;
      openSocket(current);
    }, delay);
  }

  /** Detach and close the current socket (its close event must not be handled again). */
  function dropSocket(current: Run): void {
    const conn = current.conn;
    current.conn = null;
    clearTimer(current, 'connectTimer');
    if (conn !== null) closeSocket(conn.ws);
  }

  // ------------------------------------------------------------------------------------------
  // Server messages

  function onSocketMessage(current: Run, conn: Connection, data: unknown): void {
    if (current.conn !== conn || current.ended) return;
    stats.messagesReceived += 1;
    const raw = typeof data === 'string' ? data : null;
    stats.bytesReceived += raw !== null ? raw.length : byteLength(data);
    const parsed = parseServerMessage(data);
    // Barge-in comes before everything else, callbacks included: every millisecond here is
    // agent audio talking over the user.
    if (parsed.kind === 'message' && parsed.message.type === 'voiceActivityStart') bargeIn(current);
    if (raw !== null) emit('message', raw);
    if (current.ended) return;
    if (parsed.kind === 'invalid') {
      protocolError(
        raw === null ? 'The server sent a binary frame; the talk protocol is JSON text.' : parsed.error,
      );
      return;
    }
    if (parsed.kind === 'unknown') return;
    handleMessage(current, conn, parsed.message);
  }

  function protocolError(message: string): void {
    emit('error', { kind: 'protocol', message, fatal: false });
  }

  function bargeIn(current: Run): void {
    withPlayer(current, (player) => player.interrupt());
    clearTimer(current, 'drainTimer');
    current.resumableDrain = false;
    if (store.getState().mode === 'agentSpeaking' && current.player !== null) {
      collectInterruption(current);
      current.interruptionPending = { at: now(), previous: current.interruptionMsBefore };
    }
    // The interrupted response's audio is dropped, so its first-audio time would be meaningless.
    current.awaitingAudioSince = null;
  }

  function handleMessage(current: Run, conn: Connection, message: ServerMessage): void {
    switch (message.type) {
      case 'init': {
        clearTimer(current, 'connectTimer');
        const first = !conn.initReceived;
        conn.initReceived = true;
        current.conversationId = message.conversationId;
        current.attempt = 0;
        if (!current.everConnected) current.awaitingAudioSince = now();
        current.everConnected = true;
        update({ status: 'connected', conversationId: message.conversationId, error: null });
        if (first) emit('connect', message.conversationId);
        maybeResolveStarted(current);
        return;
      }
      case 'audioStream': {
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64(message.data);
        } catch (error) {
          protocolError(`Agent audio was not valid base64: ${errorText(error)}`);
          return;
        }
        if (bytes.length > 0) {
          current.audioPending = true;
          withPlayer(current, (player) => player.enqueue(bytes));
        }
        return;
      }
      case 'newAudioStream':
        current.streamEnded = false;
        current.resumableDrain = false;
        clearTimer(current, 'drainTimer');
        withPlayer(current, (player) => player.newStream());
        return;
      case 'audioStreamEnd':
        // The reply is complete: its tail is flushed and the buffer running dry is `drained`.
        current.streamEnded = true;
        withPlayer(current, (player) => player.endStream?.());
        if (current.drainTimer !== null) {
          // It had already run dry: that was the end.
          clearTimer(current, 'drainTimer');
          if (store.getState().mode === 'agentSpeaking') setMode('listening');
        }
        return;
      case 'voiceActivityStart':
        setMode('userSpeaking');
        return;
      case 'voiceActivityEnd':
        current.awaitingAudioSince = now();
        if (store.getState().mode !== 'agentSpeaking') setMode('thinking');
        return;
      case 'onUserTranscript':
        addTranscript('user', message.message);
        emit('userTranscript', message.message);
        return;
      case 'onAgentTranscript':
      case 'onAgentGreeting':
        addTranscript('agent', message.message);
        emit('agentTranscript', message.message);
        return;
      case 'onAgentGreetingEnd': {
        // It repeats the greeting's text: it may complete the greeting turn, but must not start a
        // new turn after a barge-in or after the user's words.
        const last = store.getState().transcript.at(-1);
        const open = last === undefined || (last.role === 'agent' && !last.interrupted);
        if (message.message !== undefined && open) addTranscript('agent', message.message);
        return;
      }
      case 'onAgentInterrupted': {
        const transcript = interruptAgentTurn(store.getState().transcript, message.updatedMessage);
        update({ transcript });
        return;
      }
      case 'hangup':
        if ((message as { endedBy?: unknown }).endedBy === 'user')
          void endRun(current, 'ended', null, { by: 'user' });
        else drainThenEnd(current, { by: 'agent' });
        return;
      case 'customEvent':
        emit('customEvent', { name: message.name, data: 'data' in message ? message.data : undefined });
        return;
      case 'error':
        handleServerError(current, conn, message);
      // audioStreamStart, llmStreamEnd, logs, navigate, uiEvent: seen through onMessage only.
    }
  }

  function handleServerError(
    current: Run,
    conn: Connection,
    message: ServerMessage & { type: 'error' },
  ): void {
    const error = errorFromServerMessage(message).toJSON();
    const info = describeErrorCode(message.code);
    if (info.retryable) {
      // 4429/4500 and unknown codes: the session may go on; if the server closes, reconnect.
      const soft = { ...error, fatal: false };
      conn.lastError = soft;
      emit('error', soft);
      if (message.isFatal === true) {
        // The server says this session is over but a new one may work: don't wait for its close.
        dropSocket(current);
        scheduleReconnect(current, soft, undefined, true);
      }
      return;
    }
    if (error.fatal) {
      fail(current, error);
      return;
    }
    conn.lastError = error;
    emit('error', error);
  }

  function addTranscript(role: 'user' | 'agent', text: string): void {
    update({ transcript: mergeTranscript(store.getState().transcript, role, text, nextTurnId) });
  }

  // ------------------------------------------------------------------------------------------
  // End

  /**
   * Drain, then close: the agent ended the call. The microphone and the socket go at once (there
   * is nothing left to say or hear); the agent's last words play to their end (status `ending`,
   * at most `drainTimeoutMs`), then the player and the context are released.
   */
  function drainThenEnd(current: Run, reason: DisconnectReason): void {
    const player = current.player;
    if (current.cancelDrain !== null || current.ended) return;
    if (player === null || !current.audioPending) {
      void endRun(current, 'ended', null, reason);
      return;
    }
    dropSocket(current);
    clearTimer(current, 'reconnectTimer');
    const capture = current.capture;
    current.capture = null;
    safely(() => capture?.stop());
    // The reply is complete: its tail is decoded and the queue running empty is its end.
    if (!current.streamEnded) {
      current.streamEnded = true;
      safely(() => player.endStream?.());
    }
    const playout = waitForPlayout(player, options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    current.cancelDrain = playout.cancel;
    update({ status: 'ending', talking: false });
    void playout.done.then(() => {
      if (current.ended) return;
      current.cancelDrain = null;
      void endRun(current, 'ended', null, reason);
    });
  }

  function fail(current: Run, error: ConversationError, reason: DisconnectReason = { by: 'error' }): void {
    void endRun(current, 'error', error, reason);
  }

  function endRun(
    current: Run,
    status: Extract<ConversationStatus, 'ended' | 'error'>,
    error: ConversationError | null,
    reason: DisconnectReason,
  ): Promise<void> {
    if (current.ended) return current.released;
    current.ended = true;
    const cancelDrain = current.cancelDrain;
    current.cancelDrain = null;
    cancelDrain?.();
    const wakeLock = current.wakeLock;
    current.wakeLock = null;
    if (wakeLock !== null) void wakeLock.release();
    for (const timer of TIMERS) clearTimer(current, timer);
    safely(() => current.abort?.abort());
    const conn = current.conn;
    current.conn = null;
    if (conn !== null) closeSocket(conn.ws);
    current.pendingPlayerOps = [];
    current.pendingFrames = [];
    current.pendingCustomInputs = [];
    const capture = current.capture;
    const player = current.player;
    current.capture = null;
    current.player = null;
    safely(() => capture?.stop());
    safely(() => player?.close());
    const context = current.context;
    current.context = null;
    current.released = context === null ? Promise.resolve() : context.close().catch(() => {});
    if (current === run) {
      talkGate.release();
      update({ status, mode: 'listening', error, talking: false });
      if (error !== null) emit('error', error);
      emit('disconnect', error !== null && reason.error === undefined ? { ...reason, error } : reason);
    }
    current.resolveStarted();
    return current.released;
  }

  // ------------------------------------------------------------------------------------------
  // Public surface

  const conversation: Conversation = {
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
      if (current === null || typeof text !== 'string') return;
      const conn = current.conn;
      if (conn?.setupSent && sendRaw(conn, customInput(text))) return;
      // Connecting or reconnecting: deliver it right after the next setup.
      current.pendingCustomInputs.push(text);
    },
    getInputLevel() {
      return readLevel(liveRun()?.capture);
    },
    getOutputLevel() {
      return readLevel(liveRun()?.player);
    },
    getStats() {
      const current = liveRun();
      if (current !== null) collectInterruption(current);
      const result: ConversationStats = {
        ...stats,
        timeToFirstAudioMs: stats.timeToFirstAudioMs.slice(),
        interruptionMs: stats.interruptionMs.slice(),
      };
      const player = current?.player;
      if (player) safely(() => (result.player = player.getStats()));
      return result;
    },
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
    setTurnTaking(turnTaking) {
      if (turnTaking !== 'vad' && turnTaking !== 'pushToTalk') return;
      talkGate.setTurnTaking(turnTaking);
      update({ turnTaking, talking: false });
    },
    pressToTalk() {
      const current = liveRun();
      if (current === null || current.cancelDrain !== null || !talkGate.press()) return;
      update({ talking: true });
      // Taking the floor silences the agent now, locally: the server's barge-in comes later.
      if (store.getState().mode === 'agentSpeaking' || current.audioPending) {
        bargeIn(current);
        current.audioPending = false;
        setMode('userSpeaking');
      }
    },
    releaseToTalk() {
      if (!talkGate.release()) return;
      update({ talking: false });
    },
    async setInputDevice(deviceId) {
      inputDeviceId = deviceId;
      const capture = liveRun()?.capture;
      if (capture) await capture.setDevice(deviceId === '' ? undefined : deviceId);
    },
    async setOutputDevice(deviceId) {
      if (!supportsOutputDeviceSelection() && liveRun()?.context == null) {
        throw new VoicewireError({
          kind: 'unsupported',
          message: 'This browser cannot choose the audio output device (no AudioContext.setSinkId).',
          fatal: false,
        });
      }
      const context = liveRun()?.context?.context;
      if (context) await setContextOutputDevice(context, deviceId);
      outputDeviceId = deviceId;
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      const entry = listener as Listener;
      set.add(entry);
      return () => {
        listeners.get(event)?.delete(entry);
      };
    },
    setCallbacks(next: ConversationCallbacks) {
      callbacks = next;
    },
  };

  function setMuted(isMuted: boolean): void {
    update({ isMuted });
    const capture = liveRun()?.capture;
    if (capture) safely(() => (isMuted ? capture.mute() : capture.unmute()));
  }

  function liveRun(): Run | null {
    return run !== null && !run.ended ? run : null;
  }

  /** A run that ended, or was replaced by a newer `start()`: its late events are ignored. */
  function stale(current: Run): boolean {
    return current !== run || current.ended;
  }

  return conversation;
}

// --------------------------------------------------------------------------------------------
// Helpers (no browser globals at module scope: this file is imported during SSR)

/** Compile-time check that every event `x` has its callback `onX` with the same signature, and back. */
type CallbackFor<E extends string> = `on${Capitalize<E>}`;
type CallbacksByEvent = { [E in keyof ConversationEventMap as CallbackFor<E>]?: ConversationEventMap[E] };
const callbacksMatchEvents: [Required<CallbacksByEvent>, Required<ConversationCallbacks>] extends [
  Required<ConversationCallbacks>,
  Required<CallbacksByEvent>,
]
  ? true
  : never = true;
void callbacksMatchEvents;

function emptyStats(): ConversationStats {
  return {
    framesSent: 0,
    framesDropped: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    reconnects: 0,
    timeToFirstAudioMs: [],
    interruptionMs: [],
  };
}

const CALLBACK_THREW = 'a conversation callback threw:';

function noop(): void {}

function customInput(text: string): string {
  return JSON.stringify({ type: 'customInput', data: text });
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Releasing must go on even if one part fails to release.
  }
}

/**
 * Socket handlers never throw: a bug or a hostile frame must not surface as an uncaught error.
 * Nor does an integrator's callback break the conversation. Either is still reported.
 */
function guard(fn: () => void, what = 'internal error while handling the socket:'): void {
  try {
    fn();
  } catch (error) {
    console.error(`[voicewire] ${what}`, error);
  }
}

function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

function closeSocket(ws: WebSocket): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  if (ws.readyState === WS_OPEN || ws.readyState === WS_CONNECTING) safely(() => ws.close(NORMAL_CLOSURE));
}

const TIMERS = ['connectTimer', 'drainTimer', 'reconnectTimer'] as const;

function clearTimer(current: Run, timer: (typeof TIMERS)[number]): void {
  clearTimeout(current[timer] ?? undefined);
  current[timer] = null;
}

function readInterruptionMs(player: Player): number | null | undefined {
  try {
    return player.getStats().lastInterruptionMs;
  } catch {
    return undefined;
  }
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

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  const size = (data as { size?: unknown } | null)?.size;
  return typeof size === 'number' ? size : 0;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withCode(reason: DisconnectReason, closeCode: number | undefined): DisconnectReason {
  return closeCode === undefined ? reason : { ...reason, closeCode };
}

function toConversationError(error: unknown, fallback: VoicewireErrorKind): ConversationError {
  return isVoicewireError(error)
    ? { ...error.toJSON(), fatal: true }
    : fatalError(fallback, errorText(error));
}

function fatalError(kind: VoicewireErrorKind, message: string): ConversationError {
  return { kind, message, fatal: true };
}

function validateOptions(
  options: ConversationOptions,
  input: { sampleRate: number; frameMs: number; encoding: string },
  output: { format: string; sampleRate: number },
): string | null {
  if (typeof options.agentId !== 'string' || options.agentId.trim() === '') {
    return 'The "agentId" option is required.';
  }
  if (options.url !== undefined && !/^(wss?|https?):\/\//i.test(options.url)) {
    return `The "url" option must start with wss:// or ws:// (got "${options.url}").`;
  }
  if (input.encoding !== 'linear16' && input.encoding !== 'mulaw') {
    return `input.encoding must be "linear16" or "mulaw" (got "${input.encoding}").`;
  }
  for (const [name, rate] of [
    ['input.sampleRate', input.sampleRate],
    ['output.sampleRate', output.sampleRate],
  ] as const) {
    if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ) {
      return `${name} must be an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz (got ${rate}).`;
    }
  }
  if (!Number.isFinite(input.frameMs) || input.frameMs < 10 || input.frameMs > 100) {
    return `input.frameMs must be from 10 to 100 (got ${input.frameMs}).`;
  }
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output.format)) {
    return `output.format must be one of ${OUTPUT_FORMATS.join(', ')} (got "${output.format}").`;
  }
  return null;
}
