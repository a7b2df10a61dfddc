import { resolveCaptureFormat } from '../audio/captureFormat.ts';
import type {
  AudioLevelReading,
  Capture,
  CaptureOptions,
  Player,
  PlayerOptions,
  PlayerStats,
} from '../audio/types.ts';
import type { VoicewireError } from '../errors.ts';
import type { AudioFormat } from '../providers/types.ts';

/** A capture that produces frames only when the test asks (`emitFrame`), with a settable level. */
export interface FakeCapture extends Capture {
  readonly options: CaptureOptions;
  /** Bytes per frame: `sampleRate * frameMs / 1000` samples in the capture's encoding. */
  readonly frameBytes: number;
  /** Deliver one frame to the conversation (a frame of zeros, or the bytes given). */
  emitFrame(bytes?: Uint8Array): void;
  emitFrames(count: number): void;
  /** Report a failure after start (device lost), as the real capture does. */
  fail(error: VoicewireError): void;
  setLevel(rms: number, peak?: number): void;
}

/** A player that records what it is asked to do; the test decides when audio starts and drains. */
export interface FakePlayer extends Player {
  readonly options: PlayerOptions;
  /** Every chunk given to `enqueue` (copies). */
  readonly enqueued: Uint8Array[];
  /** Calls in order: `'enqueue' | 'interrupt' | 'newStream' | 'endStream' | 'setVolume' | 'close'`. */
  readonly calls: string[];
  readonly volume: number;
  readonly closed: boolean;
  readonly generation: number;
  /** The first audible sample of the current stream played. */
  emitStarted(): void;
  /** The queue ran dry (the stream played out, or the network is late). */
  emitDrained(): void;
  /** More audio of a stream that had run dry arrived: it was a gap, not the end. */
  emitUnderrun(): void;
  emitError(error: VoicewireError): void;
  setLevel(rms: number, peak?: number): void;
  /** Set the played position `getPosition()` reports for the current stream (0 at each `newStream()`). */
  setPlayedMs(ms: number): void;
  /** Set what `getStats()` reports for the jitter buffer (`underruns` also counts `emitUnderrun()`). */
  setStats(stats: Partial<Pick<PlayerStats, 'bufferedMs' | 'jitterTargetMs' | 'underruns'>>): void;
}

export interface FakeAudio {
  /** Pass as `audio: { createCapture, createPlayer }` (or spread `fakeAudio.factories`). */
  readonly createCapture: (options: CaptureOptions) => Promise<Capture>;
  readonly createPlayer: (options: PlayerOptions) => Promise<Player>;
  readonly factories: { createCapture: FakeAudio['createCapture']; createPlayer: FakeAudio['createPlayer'] };
  readonly captures: readonly FakeCapture[];
  readonly players: readonly FakePlayer[];
  /** The newest capture / player. */
  readonly capture: FakeCapture | undefined;
  readonly player: FakePlayer | undefined;
  /** Make the next `createCapture` reject with this error (e.g. permission denied). */
  failNextCapture(error: unknown): void;
  failNextPlayer(error: unknown): void;
}

/**
 * Fake capture and player factories for `createConversation({ audio })`: no AudioContext, no
 * microphone, no worklet. Frames come when the test calls `capture.emitFrame()`; the player's
 * `started`/`drained` events fire when the test says so.
 */
export function createFakeAudio(): FakeAudio {
  const captures: FakeCapture[] = [];
  const players: FakePlayer[] = [];
  let captureFailure: { error: unknown } | null = null;
  let playerFailure: { error: unknown } | null = null;

  const createCapture = (options: CaptureOptions): Promise<Capture> => {
    if (captureFailure !== null) {
      const { error } = captureFailure;
      captureFailure = null;
      return Promise.reject(error);
    }
    let capture: FakeCapture;
    try {
      capture = createFakeCapture(options);
    } catch (error) {
      return Promise.reject(error);
    }
    captures.push(capture);
    return Promise.resolve(capture);
  };
  const createPlayer = (options: PlayerOptions): Promise<Player> => {
    if (playerFailure !== null) {
      const { error } = playerFailure;
      playerFailure = null;
      return Promise.reject(error);
    }
    const player = createFakePlayer(options);
    players.push(player);
    return Promise.resolve(player);
  };

  return {
    createCapture,
    createPlayer,
    factories: { createCapture, createPlayer },
    captures,
    players,
    get capture() {
      return captures[captures.length - 1];
    },
    get player() {
      return players[players.length - 1];
    },
    failNextCapture(error) {
      captureFailure = { error };
    },
    failNextPlayer(error) {
      playerFailure = { error };
    },
  };
}

export function createFakeCapture(options: CaptureOptions): FakeCapture {
  // Checked like the real capture's: a format it would refuse fails here too.
  const resolved = resolveCaptureFormat(options);
  const { frameMs } = resolved;
  let { sampleRate, encoding } = resolved;
  let frameBytes = resolved.frameSamples * (encoding === 'linear16' ? 2 : 1);
  let muted = false;
  let stopped = false;
  let framesCaptured = 0;
  let level: AudioLevelReading = { rms: 0, peak: 0 };
  // One buffer reused for every frame, as the real capture recycles its buffers: a consumer
  // that keeps a frame without copying it will see it change.
  let scratch = new Uint8Array(frameBytes);

  const capture: FakeCapture = {
    options,
    get frameBytes() {
      return frameBytes;
    },
    get sampleRate() {
      return sampleRate;
    },
    get encoding() {
      return encoding;
    },
    frameMs,
    setFormat(format) {
      const next = resolveCaptureFormat({ ...format, frameMs });
      sampleRate = next.sampleRate;
      encoding = next.encoding;
      frameBytes = next.frameSamples * (encoding === 'linear16' ? 2 : 1);
      scratch = new Uint8Array(frameBytes);
    },
    get muted() {
      return muted;
    },
    get stopped() {
      return stopped;
    },
    get framesCaptured() {
      return framesCaptured;
    },
    mute() {
      muted = true;
    },
    unmute() {
      muted = false;
    },
    getLevel() {
      return stopped || muted ? { rms: 0, peak: 0 } : level;
    },
    async setDevice() {},
    stop() {
      stopped = true;
    },
    emitFrame(bytes) {
      if (stopped) return;
      scratch.fill(0);
      if (bytes !== undefined && !muted) scratch.set(bytes.subarray(0, frameBytes));
      framesCaptured += 1;
      // The fake's clock: frames back to back from time 0.
      options.onFrame(scratch, { captureTime: (framesCaptured * frameMs) / 1000 });
    },
    emitFrames(count) {
      for (let i = 0; i < count; i++) capture.emitFrame();
    },
    fail(error) {
      if (stopped) return;
      options.onError?.(error);
    },
    setLevel(rms, peak = rms) {
      level = { rms, peak };
    },
  };
  return capture;
}

type PlayerListener = (arg: never) => void;

/** The fade the fake player reports for an interruption (the real one's is 4 ms). */
export const FAKE_FADE_MS = 4;

export function createFakePlayer(options: PlayerOptions): FakePlayer {
  let format: AudioFormat = options.format;
  let sampleRate = options.sampleRate;
  const enqueued: Uint8Array[] = [];
  const calls: string[] = [];
  const listeners = new Map<string, Set<PlayerListener>>();
  let volume = options.volume ?? 1;
  let closed = false;
  let generation = 0;
  let interrupted = false;
  let level: AudioLevelReading = { rms: 0, peak: 0 };
  let bytesEnqueued = 0;
  let chunksDropped = 0;
  let lastInterruptionMs: number | null = null;
  let buffer = { bufferedMs: 0, jitterTargetMs: 0, underruns: 0 };
  /** Audio was enqueued and the test has not said it played out (`emitDrained`). */
  let pending = false;
  let playedMs = 0;

  const fire = (event: string, arg: unknown): void => {
    for (const listener of [...(listeners.get(event) ?? [])]) (listener as (a: unknown) => void)(arg);
  };

  const player: FakePlayer = {
    options,
    enqueued,
    calls,
    get format() {
      return format;
    },
    get sampleRate() {
      return sampleRate;
    },
    setFormat(nextFormat, nextRate) {
      calls.push('setFormat');
      format = nextFormat;
      sampleRate = nextRate;
    },
    get volume() {
      return volume;
    },
    get closed() {
      return closed;
    },
    get generation() {
      return generation;
    },
    enqueue(bytes) {
      if (closed) return;
      calls.push('enqueue');
      bytesEnqueued += bytes.length;
      if (interrupted) {
        chunksDropped += 1;
        return;
      }
      pending = true;
      enqueued.push(bytes.slice());
    },
    interrupt() {
      if (closed) return;
      calls.push('interrupt');
      // The real player times its fade on the audio clock; the fake reports its nominal length.
      if (!interrupted) lastInterruptionMs = FAKE_FADE_MS;
      interrupted = true;
      pending = false;
      level = { rms: 0, peak: 0 };
    },
    newStream() {
      if (closed) return;
      calls.push('newStream');
      interrupted = false;
      generation += 1;
      pending = false;
      playedMs = 0;
    },
    endStream() {
      if (closed) return;
      calls.push('endStream');
    },
    setVolume(value) {
      calls.push('setVolume');
      volume = value;
    },
    getLevel() {
      return closed ? { rms: 0, peak: 0 } : level;
    },
    getPosition() {
      return { playedMs, pendingMs: pending ? Math.max(1, buffer.bufferedMs) : 0 };
    },
    getStats(): PlayerStats {
      return {
        ...buffer,
        generation,
        bytesEnqueued,
        chunksDropped,
        lastInterruptionMs,
      };
    },
    on(event: string, listener: PlayerListener) {
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => {
        listeners.get(event)?.delete(listener);
      };
    },
    close() {
      if (closed) return;
      calls.push('close');
      closed = true;
      listeners.clear();
    },
    emitStarted() {
      fire('started', generation);
    },
    emitDrained() {
      pending = false;
      fire('drained', generation);
    },
    emitUnderrun() {
      buffer.underruns += 1;
      fire('underrun', generation);
    },
    emitError(error) {
      fire('error', error);
    },
    setPlayedMs(ms) {
      playedMs = ms;
    },
    setLevel(rms, peak = rms) {
      level = { rms, peak };
    },
    setStats(stats) {
      buffer = { ...buffer, ...stats };
    },
  } as FakePlayer;
  return player;
}

/**
 * A minimal `AudioContext` for Node tests and stories: it records `resume()`/`close()` and
 * follows the state machine, nothing more. Pass it as the conversation's `AudioContext` option.
 */
export class FakeAudioContext {
  /** Every context created, oldest first (reset it between tests if you count them). */
  static readonly instances: FakeAudioContext[] = [];
  state: AudioContextState = 'suspended';
  readonly sampleRate: number;
  readonly options: AudioContextOptions | undefined;
  resumeCalls = 0;
  closeCalls = 0;
  sinkId = '';
  readonly currentTime = 0;
  readonly destination = {} as AudioDestinationNode;

  constructor(options?: AudioContextOptions) {
    this.options = options;
    this.sampleRate = options?.sampleRate ?? 48_000;
    FakeAudioContext.instances.push(this);
  }

  resume(): Promise<void> {
    this.resumeCalls += 1;
    if (this.state !== 'closed') this.state = 'running';
    return Promise.resolve();
  }

  suspend(): Promise<void> {
    if (this.state !== 'closed') this.state = 'suspended';
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closeCalls += 1;
    this.state = 'closed';
    return Promise.resolve();
  }

  setSinkId(id: string): Promise<void> {
    this.sinkId = id;
    return Promise.resolve();
  }

  addEventListener(): void {}
  removeEventListener(): void {}
}
