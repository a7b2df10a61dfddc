import { DEFAULT_FRAME_MS, MAX_FRAME_MS, MIN_FRAME_MS } from '../audio/captureFormat.ts';
// The built-in worklet engine, loaded at the first start() (see audio/lazyEngine.ts).
import {
  createCapture as defaultCreateCapture,
  createPlayer as defaultCreatePlayer,
} from '../audio/lazyEngine.ts';
import type { Capture, CaptureOptions, Player, PlayerOptions, WorkletSource } from '../audio/types.ts';
import type { Provider, WireInputFormat, WireOutputFormat } from '../providers/types.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, MAX_SEND_BACKLOG_MS, PENDING_AUDIO_MS } from './defaults.ts';
import { type ResolvedReconnectPolicy, resolveReconnectPolicy } from './reconnectPolicy.ts';
import type { ConversationInputOptions, ConversationOptions } from './types.ts';

/**
 * A conversation's options with every default filled in and every value checked: what one run
 * (one `start()` to its end) works from. Callbacks and `getToken` are not here: they are read
 * from the conversation's current options each time they are used, so replacing them never
 * needs a new run. The wire formats are not here either: the provider settles them
 * (`ProviderSession.input`/`output`), from the `input`/`output` options where the vendor lets the
 * client choose.
 */
export interface ResolvedOptions {
  /** The provider given, or null for the default (PlayAI with the top-level `agentId`…). */
  provider: Provider | null;
  url: string | undefined;
  apiKey: string | undefined;
  token: string | undefined;
  /** What the integrator asked for; the provider decides. */
  wantedInput: Partial<WireInputFormat>;
  wantedOutput: Partial<WireOutputFormat>;
  frameMs: number;
  input: Pick<
    ConversationInputOptions,
    'deviceId' | 'echoCancellation' | 'noiseSuppression' | 'autoGainControl'
  >;
  output: { deviceId: string | undefined };
  continueConversation: string | undefined;
  /** null: never reconnect. */
  reconnect: ResolvedReconnectPolicy | null;
  connectTimeoutMs: number;
  /** Frames kept while the socket cannot take audio ({@link PENDING_AUDIO_MS}). */
  maxPendingFrames: number;
  /** Frames the socket may hold unsent ({@link MAX_SEND_BACKLOG_MS}). */
  maxBacklogFrames: number;
  worklets: WorkletSource | undefined;
  /** {@link ConversationOptions.echoGuard}. */
  echoGuard: boolean;
  createCapture: (options: CaptureOptions) => Promise<Capture>;
  createPlayer: (options: PlayerOptions) => Promise<Player>;
  /** Undefined: the global one, looked up when the socket opens. */
  WebSocket: typeof WebSocket | undefined;
  AudioContext: typeof AudioContext | undefined;
  getUserMedia: ((constraints: MediaStreamConstraints) => Promise<MediaStream>) | undefined;
}

export type ResolveOptionsResult = { ok: true; options: ResolvedOptions } | { ok: false; message: string };

/** Fill in the defaults and check every value, once per `start()`. Never throws. */
export function resolveOptions(options: ConversationOptions): ResolveOptionsResult {
  const frameMs = options.input?.frameMs ?? DEFAULT_FRAME_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const problem = optionsProblem(options, connectTimeoutMs, frameMs);
  if (problem !== null) return { ok: false, message: problem };
  const { deviceId, echoCancellation, noiseSuppression, autoGainControl } = options.input ?? {};
  const wantedInput: Partial<WireInputFormat> = {};
  if (options.input?.encoding !== undefined) wantedInput.encoding = options.input.encoding;
  if (options.input?.sampleRate !== undefined) wantedInput.sampleRate = options.input.sampleRate;
  const wantedOutput: Partial<WireOutputFormat> = {};
  if (options.output?.format !== undefined) wantedOutput.format = options.output.format;
  if (options.output?.sampleRate !== undefined) wantedOutput.sampleRate = options.output.sampleRate;
  return {
    ok: true,
    options: {
      provider: options.provider ?? null,
      url: options.url,
      apiKey: options.apiKey,
      token: options.token,
      wantedInput,
      wantedOutput,
      frameMs,
      input: { deviceId, echoCancellation, noiseSuppression, autoGainControl },
      output: { deviceId: options.output?.deviceId || undefined },
      continueConversation: options.continueConversation,
      reconnect: resolveReconnectPolicy(options.reconnect),
      connectTimeoutMs,
      maxPendingFrames: Math.max(1, Math.ceil(PENDING_AUDIO_MS / frameMs)),
      maxBacklogFrames: Math.max(1, Math.ceil(MAX_SEND_BACKLOG_MS / frameMs)),
      worklets: options.worklets,
      echoGuard: options.echoGuard === true,
      createCapture: options.audio?.createCapture ?? defaultCreateCapture,
      createPlayer: options.audio?.createPlayer ?? defaultCreatePlayer,
      WebSocket: options.WebSocket,
      AudioContext: options.AudioContext,
      getUserMedia: options.getUserMedia,
    },
  };
}

function optionsProblem(
  options: ConversationOptions,
  connectTimeoutMs: number,
  frameMs: number,
): string | null {
  if (options.provider !== undefined && typeof options.provider?.start !== 'function') {
    return 'The "provider" option must be a provider, such as playai({ agentId }) or openaiRealtime({ model }).';
  }
  if (options.url !== undefined && !/^wss?:\/\//i.test(options.url)) {
    return `The "url" option must start with wss:// or ws:// (got "${options.url}").`;
  }
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) {
    return `connectTimeoutMs must be a positive number of milliseconds (got ${connectTimeoutMs}).`;
  }
  if (!(frameMs >= MIN_FRAME_MS && frameMs <= MAX_FRAME_MS)) {
    return `input.frameMs must be from ${MIN_FRAME_MS} to ${MAX_FRAME_MS} (got ${frameMs}).`;
  }
  return null;
}
