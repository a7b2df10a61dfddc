import type { StoreApi } from 'zustand/vanilla';
import type {
  Capture,
  CaptureOptions,
  Player,
  PlayerOptions,
  PlayerStats,
  WorkletSource,
} from '../audio/types.ts';
import type { VoicewireErrorKind } from '../errors.ts';
import type { AudioFormat, CaptureEncoding, Provider } from '../providers/types.ts';
import type { EventCallbacks } from './emitter.ts';
import type { TurnTaking } from './talkGate.ts';

export type { TurnTaking } from './talkGate.ts';

/**
 * - `ending`: the agent ended the call and its last words are still playing (drain, then close);
 *   the microphone and the socket are already released, the audio follows when it has played out.
 */
export type ConversationStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'ending'
  | 'ended'
  | 'error';
export type ConversationMode = 'listening' | 'userSpeaking' | 'thinking' | 'agentSpeaking';

export interface TranscriptTurn {
  id: string;
  role: 'user' | 'agent';
  text: string;
  /** The agent was cut off; `text` is what was actually spoken. */
  interrupted: boolean;
}

/** The serialisable error kept in the store. */
export interface ConversationError {
  kind: VoicewireErrorKind;
  code?: number;
  message: string;
  fatal: boolean;
}

/** Counters for a stats panel; updated at most a few times a second, never per frame. */
export interface ConversationStats {
  framesSent: number;
  framesDropped: number;
  /**
   * Microphone frames the echo guard held back (sent as silence of the same size) because they
   * held nothing but the echo of the agent's voice ({@link ConversationOptions.echoGuard}).
   */
  framesHeldBack: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  reconnects: number;
  /** Milliseconds from the end of the user's speech (or the start) to the agent's first audible sample, per turn. */
  timeToFirstAudioMs: number[];
  /** Milliseconds from `voiceActivityStart` to the agent's audio being silent, per interruption. */
  interruptionMs: number[];
  /**
   * The agent-audio player's own counters (jitter-buffer depth and target, underruns…), read
   * when `getStats()` is called; absent while no player is loaded (before `start()`, after the end).
   */
  player?: PlayerStats;
}

export interface ConversationState {
  status: ConversationStatus;
  mode: ConversationMode;
  conversationId: string | null;
  transcript: TranscriptTurn[];
  isMuted: boolean;
  error: ConversationError | null;
  /** `vad` (the server hears every frame) or `pushToTalk` (only while the talk control is held). */
  turnTaking: TurnTaking;
  /** Push-to-talk: the user is holding the talk control (the microphone is on the wire). */
  talking: boolean;
}

export interface ReconnectPolicy {
  /** @defaultValue 5 */
  maxAttempts?: number;
  /** @defaultValue 500 */
  initialDelayMs?: number;
  /** @defaultValue 10000 */
  maxDelayMs?: number;
  /** @defaultValue 2 */
  factor?: number;
  /** Fraction of random jitter, 0..1. @defaultValue 0.3 */
  jitter?: number;
}

/**
 * The conversation's state, read-only: `getState()`, `subscribe()` (returns its unsubscribe) and
 * `getInitialState()`, what `useSyncExternalStore` and zustand's `useStore` take. Only the
 * conversation writes it.
 */
export type ReadonlyStore<T> = Pick<StoreApi<T>, 'getState' | 'getInitialState' | 'subscribe'>;

export interface ConversationInputOptions {
  /**
   * The microphone's encoding on the wire, where the provider lets the client choose (PlayAI
   * does; OpenAI takes `mulaw` as G.711 at 8 kHz; ElevenLabs announces its own).
   * @defaultValue the provider's (PlayAI: 'linear16')
   */
  encoding?: CaptureEncoding;
  /** The wire rate, where the provider lets the client choose. @defaultValue the provider's (PlayAI: 16000) */
  sampleRate?: number;
  /** @defaultValue 20 */
  frameMs?: number;
  deviceId?: string;
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
}

export interface ConversationOutputOptions {
  /**
   * The agent's audio format, where the provider lets the client choose (PlayAI: mp3, raw, wav,
   * ogg, flac or mulaw). @defaultValue the provider's (PlayAI: 'wav')
   */
  format?: AudioFormat;
  /** @defaultValue the provider's (PlayAI: 24000) */
  sampleRate?: number;
  /** Output device, where `AudioContext.setSinkId` exists. */
  deviceId?: string;
}

export type ConversationEventMap = {
  connect: (conversationId: string) => void;
  disconnect: (reason: DisconnectReason) => void;
  error: (error: ConversationError) => void;
  message: (raw: string) => void;
  modeChange: (mode: ConversationMode) => void;
  statusChange: (status: ConversationStatus) => void;
  userTranscript: (text: string) => void;
  agentTranscript: (text: string) => void;
  customEvent: (event: { name: string; data: unknown }) => void;
};

export interface DisconnectReason {
  /** Who or what ended it. */
  by: 'user' | 'agent' | 'error' | 'network' | 'unmount';
  /** WebSocket close code, when there was one. */
  closeCode?: number;
  error?: ConversationError;
}

/**
 * One optional callback per event of {@link ConversationEventMap}: `connect` → `onConnect`, with
 * the listener's signature. Callbacks are read when the event fires, so they can be replaced
 * (`setOptions`, `setCallbacks`) without reconnecting.
 */
export type ConversationCallbacks = EventCallbacks<ConversationEventMap>;

export interface ConversationOptions extends ConversationCallbacks {
  /**
   * Which service and wire protocol: `playai({ agentId })` from `@voicewire/core/playai`,
   * `openaiRealtime({ model })` from `@voicewire/core/openai`, `elevenlabs({ agentId })` from
   * `@voicewire/core/elevenlabs`… Each is its own entry point, so a page bundles only the one it
   * uses. See docs/providers.md.
   * @defaultValue PlayAI's talk protocol with the `agentId`, `customGreeting` and `prompt` options
   */
  provider?: Provider;
  /** PlayAI's agent, when no `provider` is given (the same as `provider: playai({ agentId })`). */
  agentId?: string;
  /**
   * The endpoint, without its query: the provider adds its own (`?model=`, `?agent_id=`) and, when
   * this is absent, uses the vendor's own endpoint. For a relay, the relay's address. PlayAI's:
   * a base like `wss://host/v1/talk` opens `<url>/<agentId>` (also the deployed SDK's
   * `/v1/agents` path; see docs/protocol.md, "Endpoints").
   * @defaultValue the provider's vendor endpoint (PlayAI: 'wss://api.play.ai/v1/talk')
   */
  url?: string;
  /** The API key, for prototypes only: in production a relay holds it. */
  apiKey?: string;
  /**
   * A token for the connection: a relay session token (sent as `?token=`), or a vendor's
   * browser-safe credential where the provider recognises one (an OpenAI ephemeral key `ek_…`,
   * an ElevenLabs signed URL); see docs/providers.md.
   */
  token?: string;
  /**
   * Fetch a fresh token (as `token`) before each connection, reconnects included (a relay's
   * tokens are short-lived: one minted at page load may have expired when the network drops ten
   * minutes into a call). Takes precedence over `token`.
   */
  getToken?: () => string | Promise<string>;
  input?: ConversationInputOptions;
  output?: ConversationOutputOptions;
  /** PlayAI's `customGreeting`, when no `provider` is given. */
  customGreeting?: string;
  /** PlayAI's `prompt`, when no `provider` is given. */
  prompt?: string;
  /** A conversation to continue, where the provider can resume one (PlayAI's conversation id). */
  continueConversation?: string;
  /**
   * `vad`: the microphone streams all the time and the server decides when the user speaks.
   * `pushToTalk`: it streams only between `pressToTalk()` and `releaseToTalk()` (what
   * `<TalkButton>` does while held), for noisy places. Switch at runtime with `setTurnTaking()`.
   * @defaultValue 'vad'
   */
  turnTaking?: TurnTaking;
  /**
   * Push-to-talk: milliseconds of digital silence sent after a release, so the server's voice
   * activity detection closes the turn at once; then nothing is sent until the next press.
   * @defaultValue 1000
   */
  releaseTailMs?: number;
  /**
   * When the agent ends the call, at most this long is given to its last words to play out
   * (status `ending`) before everything is released. A user `stop()` always cuts at once.
   * @defaultValue 10000
   */
  drainTimeoutMs?: number;
  /**
   * Hold the screen wake lock during the call (re-acquired when the page becomes visible again,
   * released on every end path), so a phone does not lock mid-conversation. A browser without
   * the API, or one that refuses, is not an error. @defaultValue true
   */
  wakeLock?: boolean;
  /**
   * The echo guard: while the agent is audible, a microphone frame that holds nothing but the echo
   * of its voice (what the browser's echo cancellation leaves, or all of it when that is off) goes
   * out as silence of the same size, so the agent's voice activity detection never hears the
   * agent and cuts it off. The capture worklet compares the microphone with what the player sends
   * to the speakers (same AudioContext), band by band, at the echo path's delay (tracked); a user
   * talking over the agent stands out and passes at once, with no added latency. Nothing changes
   * while the agent is silent, and a held push-to-talk control always passes. Counted in
   * `getStats().framesHeldBack`; see the core README, "Echo guard". Works with every provider
   * (it sits before the wire). Applies from the next `start()`. Off by default for now: until it
   * has learned the room it also holds back a user talking over the agent at an ordinary level
   * (the core README's "Echo guard" says when to turn it on). @defaultValue false
   */
  echoGuard?: boolean;
  /** @defaultValue the default policy; `false` never reconnects. */
  reconnect?: ReconnectPolicy | false;
  /**
   * Milliseconds one connection attempt may take: from asking `getToken` for a token, through the
   * socket opening, to the agent's `init`. Past it, a first connection fails (`timeout`) and a
   * reconnect tries again. @defaultValue 15000
   */
  connectTimeoutMs?: number;
  /**
   * Where the capture and player worklets load from: `'inline'` (a Blob URL, the default) or
   * `{ baseUrl }` for pages whose Content-Security-Policy forbids `blob:`/`data:` worklets.
   */
  worklets?: WorkletSource;
  /**
   * Replace the audio engine: for tests (see `@voicewire/core/testing`) and custom audio paths
   * (a native bridge, a recorded file). Each factory defaults to the built-in worklet engine.
   */
  audio?: ConversationAudio;
  /** Injectable for tests. */
  WebSocket?: typeof WebSocket;
  AudioContext?: typeof AudioContext;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
}

/** Factories for the audio engine; see {@link ConversationOptions.audio}. */
export interface ConversationAudio {
  createCapture?: (options: CaptureOptions) => Promise<Capture>;
  createPlayer?: (options: PlayerOptions) => Promise<Player>;
}

export interface Conversation {
  /** The state, read-only: subscribe to it, or read it with `useConversationState` in React. */
  readonly store: ReadonlyStore<ConversationState>;
  /** Starts the conversation; call it from the user's gesture (creates/resumes the AudioContext). */
  start(): Promise<void>;
  /**
   * Ends it and releases the mic, the context and the socket; idempotent. `by` is reported to
   * `onDisconnect` (the React hook passes `'unmount'`). @defaultValue 'user'
   */
  stop(by?: 'user' | 'unmount'): Promise<void>;
  mute(): void;
  unmute(): void;
  setVolume(volume: number): void;
  /**
   * Text to the agent, as if the user had said it (PlayAI's `customInput`, OpenAI's user message,
   * ElevenLabs' `user_message`…). Sent once connected; ignored where the vendor has no text input.
   */
  sendCustomInput(text: string): void;
  /** RMS of the microphone, 0..1, read on demand (never stored). */
  getInputLevel(): number;
  /** RMS of the agent's voice, 0..1, read on demand (never stored). */
  getOutputLevel(): number;
  getStats(): ConversationStats;
  /**
   * The spectrum of the microphone (`input`) or of the agent's voice (`output`), 0..255 per bin,
   * read on demand for a visualiser (an AnalyserNode created on the first call; nothing is
   * stored, no subscriber is notified). Fills `out` when given (up to its length) and returns
   * it; zeros while nothing plays or the conversation is not live.
   */
  getFrequencyData(source: 'input' | 'output', out?: Uint8Array): Uint8Array;
  /**
   * Capture from another microphone, mid-call, without reconnecting or losing a frame (the new
   * device is connected before the old one is released). Before `start()` it chooses the device
   * the call will open. `undefined`: the system default. Rejects with a VoicewireError
   * (`microphone-not-found`, `microphone-permission-denied`…) and keeps the current device.
   */
  setInputDevice(deviceId: string | undefined): Promise<void>;
  /**
   * Play the agent on another output device, mid-call (`AudioContext.setSinkId`). Rejects with a
   * VoicewireError of kind `unsupported` where the browser cannot (check
   * `supportsOutputDeviceSelection()` first), `invalid-options` for an unknown id.
   */
  setOutputDevice(deviceId: string): Promise<void>;
  /** Switch between `vad` and `pushToTalk` mid-call, without reconnecting. */
  setTurnTaking(turnTaking: TurnTaking): void;
  /**
   * Push-to-talk: the user holds the talk control. The microphone goes on the wire from the next
   * frame; if the agent is speaking it is silenced at once, locally, without waiting for the
   * server. Does nothing in `vad` mode or when not connected.
   */
  pressToTalk(): void;
  /** Push-to-talk: the user let go. A short run of silence closes the turn, then nothing is sent. */
  releaseToTalk(): void;
  /**
   * Load now what a call needs (the engine that runs it, the audio worklets, the provider's
   * protocol) instead of at `start()`: call it when the page shows the call's controls, so the
   * first click waits for nothing but the network. `useAgentConversation` does it on mount.
   */
  preload(): void;
  on<E extends keyof ConversationEventMap>(event: E, listener: ConversationEventMap[E]): () => void;
  /** The options in force: those given to `createConversation` or the last `setOptions`. */
  readonly options: ConversationOptions;
  /**
   * Replace the options. Callbacks and `getToken` take effect at once (they are read when used);
   * everything else at the next `start()`: a conversation in progress keeps the agent, URL and
   * formats it started with.
   */
  setOptions(options: ConversationOptions): void;
  /** Replace the callbacks (every `on<Event>` option) without reconnecting. */
  setCallbacks(callbacks: ConversationCallbacks): void;
}
