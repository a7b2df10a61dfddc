import {
  type CaptureFormat,
  captureFormatProblem,
  DEFAULT_FRAME_MS,
  DEFAULT_INPUT_ENCODING,
  DEFAULT_INPUT_SAMPLE_RATE_HZ,
  withCaptureDefaults,
} from '../audio/captureFormat.ts';
// The built-in worklet engine, loaded at the first start() (see audio/lazyEngine.ts).
import {
  createCapture as defaultCreateCapture,
  createPlayer as defaultCreatePlayer,
} from '../audio/lazyEngine.ts';
import type { Capture, CaptureOptions, Player, PlayerOptions, WorkletSource } from '../audio/types.ts';
import {
  MAX_SAMPLE_RATE_HZ,
  MIN_SAMPLE_RATE_HZ,
  OUTPUT_FORMATS,
  type OutputFormat,
} from '../protocol/messages.ts';
import { type ResolvedReconnectPolicy, resolveReconnectPolicy } from './reconnectPolicy.ts';
import { DEFAULT_TALK_URL } from './socketUrl.ts';
import type { ConversationInputOptions, ConversationOptions } from './types.ts';

export { DEFAULT_FRAME_MS, DEFAULT_INPUT_ENCODING, DEFAULT_INPUT_SAMPLE_RATE_HZ };

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
 * A conversation's options with every default filled in and every value checked: what one run
 * (one `start()` to its end) works from. Callbacks and `getToken` are not here: they are read
 * from the conversation's current options each time they are used, so replacing them never
 * needs a new run.
 */
export interface ResolvedOptions {
  agentId: string;
  url: string;
  apiKey: string | undefined;
  token: string | undefined;
  input: CaptureFormat &
    Pick<ConversationInputOptions, 'deviceId' | 'echoCancellation' | 'noiseSuppression' | 'autoGainControl'>;
  output: { format: OutputFormat; sampleRate: number; deviceId: string | undefined };
  customGreeting: string | undefined;
  prompt: string | undefined;
  continueConversation: string | undefined;
  /** null: never reconnect. */
  reconnect: ResolvedReconnectPolicy | null;
  connectTimeoutMs: number;
  /** Frames kept while no session is set up ({@link PENDING_AUDIO_MS}). */
  maxPendingFrames: number;
  /** Frames the socket may hold unsent ({@link MAX_SEND_BACKLOG_MS}). */
  maxBacklogFrames: number;
  worklets: WorkletSource | undefined;
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
  const input = withCaptureDefaults(options.input ?? {});
  const output = {
    format: options.output?.format ?? DEFAULT_OUTPUT_FORMAT,
    sampleRate: options.output?.sampleRate ?? DEFAULT_OUTPUT_SAMPLE_RATE_HZ,
    deviceId: options.output?.deviceId || undefined,
  };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const problem =
    optionsProblem(options, connectTimeoutMs) ??
    captureFormatProblem(input, 'input.') ??
    outputProblem(output.format, output.sampleRate);
  if (problem !== null) return { ok: false, message: problem };
  const { deviceId, echoCancellation, noiseSuppression, autoGainControl } = options.input ?? {};
  return {
    ok: true,
    options: {
      agentId: options.agentId,
      url: options.url ?? DEFAULT_TALK_URL,
      apiKey: options.apiKey,
      token: options.token,
      input: { ...input, deviceId, echoCancellation, noiseSuppression, autoGainControl },
      output,
      customGreeting: options.customGreeting,
      prompt: options.prompt,
      continueConversation: options.continueConversation,
      reconnect: resolveReconnectPolicy(options.reconnect),
      connectTimeoutMs,
      maxPendingFrames: Math.max(1, Math.ceil(PENDING_AUDIO_MS / input.frameMs)),
      maxBacklogFrames: Math.max(1, Math.ceil(MAX_SEND_BACKLOG_MS / input.frameMs)),
      worklets: options.worklets,
      createCapture: options.audio?.createCapture ?? defaultCreateCapture,
      createPlayer: options.audio?.createPlayer ?? defaultCreatePlayer,
      WebSocket: options.WebSocket,
      AudioContext: options.AudioContext,
      getUserMedia: options.getUserMedia,
    },
  };
}

function optionsProblem(options: ConversationOptions, connectTimeoutMs: number): string | null {
  if (typeof options.agentId !== 'string' || options.agentId.trim() === '') {
    return 'The "agentId" option is required.';
  }
  if (options.url !== undefined && !/^wss?:\/\//i.test(options.url)) {
    return `The "url" option must start with wss:// or ws:// (got "${options.url}").`;
  }
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) {
    return `connectTimeoutMs must be a positive number of milliseconds (got ${connectTimeoutMs}).`;
  }
  return null;
}

function outputProblem(format: string, sampleRate: number): string | null {
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE_HZ || sampleRate > MAX_SAMPLE_RATE_HZ) {
    return `output.sampleRate must be an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz (got ${sampleRate}).`;
  }
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    return `output.format must be one of ${OUTPUT_FORMATS.join(', ')} (got "${format}").`;
  }
  return null;
}
