import type { VoicewireError } from '../errors.ts';
import type { AudioFormat, CaptureEncoding } from '../providers/types.ts';
import type { EchoGuardTuning } from './worklets/echoGuardTuning.ts';

export type { AudioFormat, CaptureEncoding } from '../providers/types.ts';

/** A level reading: linear amplitude, 0..1 (1 = full scale). */
export interface AudioLevelReading {
  rms: number;
  peak: number;
}

/** Where the worklet modules come from. */
export type WorkletSource =
  /** Inlined sources through a Blob URL, falling back to a `data:` URL (the default). */
  | 'inline'
  /** A self-hosted base URL (for a strict Content-Security-Policy); files are `<base>/capture-processor.js`, `<base>/player-processor.js`. */
  | { baseUrl: string };

/** When a captured frame was taken. */
export interface CaptureFrameInfo {
  /** AudioContext time (seconds) just after the frame's last sample was captured. */
  captureTime: number;
  /**
   * The echo guard's verdict (see {@link Capture.setEchoReference}): true when nothing in the
   * frame stands out from the echo of what the speakers play, so it can be held back. Always
   * false without a reference, while muted, and while the agent is silent.
   */
  echo?: boolean;
}

export interface CaptureOptions {
  /** Sample rate on the wire, in Hz. @defaultValue 16000 */
  sampleRate?: number;
  /** @defaultValue 'linear16' */
  encoding?: CaptureEncoding;
  /** Frame length in milliseconds, 10..100. @defaultValue 20 */
  frameMs?: number;
  deviceId?: string;
  /** @defaultValue true */
  echoCancellation?: boolean;
  /** @defaultValue true */
  noiseSuppression?: boolean;
  /** @defaultValue true */
  autoGainControl?: boolean;
  /** An AudioContext to share (the conversation's). One is created when absent and closed by `stop()`. */
  context?: AudioContext;
  /** Called with each encoded frame of exactly `sampleRate * frameMs / 1000` samples. */
  onFrame: (frame: Uint8Array, info: CaptureFrameInfo) => void;
  /** Called when the capture fails after it started (device lost and no other could be opened). */
  onError?: (error: VoicewireError) => void;
  /** Injectable for tests; defaults to `navigator.mediaDevices.getUserMedia`. */
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  worklets?: WorkletSource;
  /**
   * Cancels the start: the promise rejects at once with a VoicewireError (kind `audio-context`,
   * not fatal, the signal's reason as its `cause`) and whatever was already acquired (the
   * microphone, a context of its own) is released. No effect once the promise has resolved:
   * stop what it returned instead.
   */
  signal?: AbortSignal;
  /**
   * How long audio may take to flow once the microphone is open. The promise resolves with the
   * first captured frame; if none arrives in time it rejects with kind `audio-context` (the
   * AudioContext is not running: no audio device, or audio blocked until a click) or
   * `microphone-unavailable` (the context runs but the microphone sends nothing).
   * @defaultValue 5000
   */
  startTimeoutMs?: number;
  /**
   * Overrides of the echo guard's tuning (src/audio/worklets/echoGuardTuning.ts), for the lab and
   * the tests; the defaults are what the guard was measured with.
   * @internal
   */
  echoGuardTuning?: Partial<EchoGuardTuning>;
}

export interface Capture {
  readonly sampleRate: number;
  readonly encoding: CaptureEncoding;
  readonly frameMs: number;
  readonly muted: boolean;
  readonly stopped: boolean;
  /** Frames posted so far. */
  readonly framesCaptured: number;
  mute(): void;
  unmute(): void;
  /** Current input level, read from shared memory or the last report; no per-quantum messages. */
  getLevel(): AudioLevelReading;
  /**
   * Send frames in another wire format from now on (the server announced another one than the
   * capture was started with): the resampler and encoder change between two frames.
   */
  setFormat?(format: { encoding: CaptureEncoding; sampleRate: number }): void;
  /**
   * Switch the input device mid-call: the new stream feeds the same worklet (connected before the
   * old one is dropped), so frames keep their cadence and none is lost. `undefined`: the default.
   * Resolves once the new device's frames flow; rejects with `microphone-unavailable` when they do
   * not (after restarting a graph that stopped rendering, which Firefox does on an input change).
   */
  setDevice(deviceId: string | undefined): Promise<void>;
  /**
   * The microphone's spectrum, 0..255 per bin (an AnalyserNode tapped on the input, created on
   * the first call): for visualisers, read from `requestAnimationFrame`. Zeros once stopped.
   */
  getFrequencyData?(out?: Uint8Array): Uint8Array;
  /**
   * The echo guard's reference: what the speakers play (the player's {@link Player.output}, in the
   * same AudioContext), connected to the capture worklet's second input. The worklet then judges
   * every frame against it (`CaptureFrameInfo.echo`); `null` disconnects it.
   */
  setEchoReference?(node: AudioNode | null): void;
  /** Stops the tracks, disconnects the nodes, ends the worklet; idempotent. */
  stop(): void;
}

export interface PlayerOptions {
  /** Format of the incoming audio (the session's `outputFormat`). */
  format: AudioFormat;
  /** Sample rate of the incoming audio (the session's `outputSampleRate`). */
  sampleRate: number;
  /** The AudioContext to play on (the conversation's). */
  context: AudioContext;
  /** Node to connect to. @defaultValue context.destination */
  destination?: AudioNode;
  /** @defaultValue 1 */
  volume?: number;
  worklets?: WorkletSource;
  /**
   * Cancels the start: the promise rejects at once with a VoicewireError (kind `audio-context`,
   * not fatal, the signal's reason as its `cause`) and whatever was already made (the worklet
   * node, a decoder) is released. No effect once the promise has resolved: close what it
   * returned instead.
   */
  signal?: AbortSignal;
}

export interface PlayerStats {
  /** Audio queued in the worklet, in milliseconds. */
  bufferedMs: number;
  /** Current jitter-buffer target, in milliseconds. */
  jitterTargetMs: number;
  underruns: number;
  /** The generation (stream) now playing. */
  generation: number;
  /** Bytes given to `enqueue` so far. */
  bytesEnqueued: number;
  /** Chunks dropped because they belonged to an interrupted stream. */
  chunksDropped: number;
  /**
   * Audio time from the last `interrupt()` to the end of its fade (the output is silent from
   * there), in milliseconds; null before the first interruption. Optional for custom players;
   * without it the conversation's `interruptionMs` stays empty.
   */
  lastInterruptionMs?: number | null;
}

/** Where the current stream stands; see {@link Player.getPosition}. */
export interface PlaybackPosition {
  /** Milliseconds of the current stream made audible so far: what the listener has heard of it. */
  playedMs: number;
  /**
   * Milliseconds of what was enqueued still to be heard; 0 exactly when everything enqueued has
   * played out (or was dropped by `interrupt()`) and nothing waits in the decoder.
   */
  pendingMs: number;
}

export interface Player {
  readonly format: AudioFormat;
  readonly sampleRate: number;
  /**
   * The node whose output is what the listener hears (after the interrupt gate): the echo
   * guard's reference ({@link Capture.setEchoReference}). Optional for custom players.
   */
  readonly output?: AudioNode;
  /**
   * Decode what comes from now on as `format` at `sampleRate` (the server announced another
   * format than the one the player was made for). Whatever waits in the old decoder is dropped.
   * Throws an `invalid-options` VoicewireError for a format or rate the player cannot play.
   */
  setFormat?(format: AudioFormat, sampleRate: number): void;
  /** Feed a chunk of the stream in the player's format; never throws (errors go to the `error` event). */
  enqueue(bytes: Uint8Array): void;
  /** Fade out (<= 5 ms) and go silent; drop the rest of this stream until `newStream()`. */
  interrupt(): void;
  /** Flush and begin a new stream (a new generation). */
  newStream(): void;
  /**
   * The current stream is complete (the server's `audioStreamEnd`): the decoder's tail is
   * played, and the buffer running empty is `drained` rather than a possible underrun.
   * Optional to call: without it, `drained` fires when the queue runs dry and audio of the same
   * stream arriving later is counted as an `underrun`.
   */
  endStream?(): void;
  setVolume(volume: number): void;
  getLevel(): AudioLevelReading;
  /** The agent voice's spectrum, 0..255 per bin (an AnalyserNode created on the first call). */
  getFrequencyData?(out?: Uint8Array): Uint8Array;
  /**
   * Route the output to another device (`AudioContext.setSinkId`; it moves the whole context).
   * Rejects with a VoicewireError of kind `unsupported` where the browser cannot.
   */
  setOutputDevice?(deviceId: string): Promise<void>;
  getStats(): PlayerStats;
  /**
   * The current stream's played position and what is left of it, read on demand. Asked when the
   * agent hangs up (is anything left to hear?) and on a barge-in (how much of this utterance did
   * the user hear? OpenAI's `conversation.item.truncate` carries it). Optional for custom players:
   * without it a hang-up waits for `drained`, bounded by the drain timeout.
   */
  getPosition?(): PlaybackPosition;
  /** `started`: first audible sample of a stream; `drained`: the stream played out; `underrun`; `error`. */
  on(event: 'started' | 'drained' | 'underrun', listener: (generation: number) => void): () => void;
  on(event: 'error', listener: (error: VoicewireError) => void): () => void;
  /** Disconnects and releases the worklet and decoders; idempotent. Does not close the shared context. */
  close(): void;
}
