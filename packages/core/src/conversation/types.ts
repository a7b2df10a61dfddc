import type { StoreApi } from 'zustand/vanilla';
import type {
  Capture,
  CaptureEncoding,
  CaptureOptions,
  Player,
  PlayerOptions,
  PlayerStats,
  WorkletSource,
} from '../audio/types.ts';
import type { VoicewireErrorKind } from '../errors.ts';
import type { OutputFormat } from '../protocol/messages.ts';
import type { EventCallbacks } from './emitter.ts';

export type ConversationStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'error';
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

export interface ConversationInputOptions {
  /** @defaultValue 'linear16' */
  encoding?: CaptureEncoding;
  /** @defaultValue 16000 */
  sampleRate?: number;
  /** @defaultValue 20 */
  frameMs?: number;
  deviceId?: string;
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
}

export interface ConversationOutputOptions {
  format?: OutputFormat;
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
  agentId: string;
  /** Base URL; the socket opens `<url>/<agentId>`. @defaultValue 'wss://api.play.ai/v1/talk' */
  url?: string;
  /** The API key, for prototypes only: in production a relay injects it. */
  apiKey?: string;
  /** A relay session token, sent as `?token=` on the socket URL. */
  token?: string;
  /**
   * Fetch a fresh relay session token before each connection, reconnects included (a relay's
   * tokens are short-lived: one minted at page load may have expired when the network drops ten
   * minutes into a call). Takes precedence over `token`.
   */
  getToken?: () => string | Promise<string>;
  input?: ConversationInputOptions;
  output?: ConversationOutputOptions;
  customGreeting?: string;
  prompt?: string;
  continueConversation?: string;
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
  readonly store: StoreApi<ConversationState>;
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
  sendCustomInput(text: string): void;
  /** RMS of the microphone, 0..1, read on demand (never stored). */
  getInputLevel(): number;
  /** RMS of the agent's voice, 0..1, read on demand (never stored). */
  getOutputLevel(): number;
  getStats(): ConversationStats;
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
