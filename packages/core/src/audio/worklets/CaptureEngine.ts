import { mulawEncodeSample } from '../../codec/mulaw.ts';
import { floatToPcm16 } from '../../codec/pcm16.ts';
import { createResampler } from '../../dsp/createResampler.ts';
import { EchoGuard, type EchoGuardTuning } from './EchoGuard.ts';
import { type CaptureOutMessage, LEVEL_SLOT, RENDER_QUANTUM_FRAMES } from './messages.ts';

export interface CaptureEngineOptions {
  /** The AudioContext's rate (what the microphone arrives at). */
  contextRate: number;
  /** The rate on the wire. */
  wireRate: number;
  encoding: 'linear16' | 'mulaw';
  /** Samples per frame at the wire rate. */
  frameSamples: number;
  muted: boolean;
  /** Frames (at the context rate) between two level reports. */
  levelWindowFrames: number;
  /** Frame buffers made up front; the main thread hands each one back after use. */
  poolSize?: number;
  post: (message: CaptureOutMessage, transfer?: Transferable[]) => void;
  /** Shared level slots, written instead of posting `level` when present. */
  levels?: Float32Array;
  /** The largest input block `process` will see. @defaultValue RENDER_QUANTUM_FRAMES (128) */
  maxBlockFrames?: number;
  /** Overrides of the echo guard's tuning (tests and the lab). */
  echoGuardTuning?: Partial<EchoGuardTuning>;
}

interface FrameSlot {
  buffer: ArrayBuffer;
  bytes: Uint8Array;
  pcm: Int16Array;
}

/**
 * The capture worklet's logic without the `AudioWorkletProcessor` around it: resample the
 * microphone from the context rate to the wire rate, encode, cut exact-size frames and measure
 * the level. `process()` allocates nothing: frame buffers come from a pool the main thread
 * refills by handing each transferred buffer back.
 */
export class CaptureEngine {
  #resampler: ReturnType<typeof createResampler>;
  #encoding: 'linear16' | 'mulaw';
  #frameSamples: number;
  #frameBytes: number;
  #pool: FrameSlot[] = [];
  #slot: FrameSlot;
  #fill = 0;
  #resampled: Float32Array;
  #pcm: Int16Array;
  readonly #silence: Float32Array;
  #muted: boolean;
  readonly #guard: EchoGuard;
  #referenceConnected = false;
  /** Frames the echo guard judged to hold only the reference's echo. */
  framesEcho = 0;
  /** Frames made because the pool was empty (the main thread fell behind). */
  extraAllocations = 0;
  framesPosted = 0;

  readonly #post: CaptureEngineOptions['post'];
  readonly #levels: Float32Array | undefined;
  readonly #levelWindow: number;
  #levelFrames = 0;
  #levelSumSquares = 0;
  #levelPeak = 0;
  #lastReportSilent = false;

  readonly #contextRate: number;
  readonly #maxBlock: number;
  readonly #poolSize: number;

  constructor(options: CaptureEngineOptions) {
    const maxBlock = options.maxBlockFrames ?? RENDER_QUANTUM_FRAMES;
    this.#contextRate = options.contextRate;
    this.#maxBlock = maxBlock;
    this.#poolSize = options.poolSize ?? 8;
    this.#resampler = createResampler(options.contextRate, options.wireRate);
    this.#encoding = options.encoding;
    this.#frameSamples = options.frameSamples;
    this.#frameBytes = options.frameSamples * (options.encoding === 'linear16' ? 2 : 1);
    const maxOut = this.#resampler.maxOutputLength(maxBlock);
    this.#resampled = new Float32Array(maxOut);
    this.#pcm = new Int16Array(maxOut);
    this.#silence = new Float32Array(maxBlock);
    this.#muted = options.muted;
    this.#post = options.post;
    this.#levels = options.levels;
    this.#levelWindow = options.levelWindowFrames;
    this.#guard = new EchoGuard(options.contextRate, options.echoGuardTuning);
    this.#slot = this.#refillPool();
  }

  /**
   * Another wire format from the next frame on (the server announced one other than the capture
   * started with): a new resampler, encoder and frame size. The samples of a frame begun in the
   * old format are dropped rather than sent in a mixed one; buffers of the old size that come
   * home are let go. Called from the port handler, never from `process()`.
   */
  setFormat(format: { wireRate: number; encoding: 'linear16' | 'mulaw'; frameSamples: number }): void {
    this.#resampler = createResampler(this.#contextRate, format.wireRate);
    this.#encoding = format.encoding;
    this.#frameSamples = format.frameSamples;
    this.#frameBytes = format.frameSamples * (format.encoding === 'linear16' ? 2 : 1);
    const maxOut = this.#resampler.maxOutputLength(this.#maxBlock);
    this.#resampled = new Float32Array(maxOut);
    this.#pcm = new Int16Array(maxOut);
    this.#pool = [];
    this.#slot = this.#refillPool();
    this.#fill = 0;
  }

  #refillPool(): FrameSlot {
    for (let i = 0; i < this.#poolSize; i++)
      this.#pool.push(this.#makeSlot(new ArrayBuffer(this.#frameBytes)));
    return this.#pool.pop()!;
  }

  get muted(): boolean {
    return this.#muted;
  }

  setMuted(muted: boolean): void {
    this.#muted = muted;
  }

  /** The echo guard (its delay estimate, for stats and tests). */
  get echoGuard(): EchoGuard {
    return this.#guard;
  }

  /**
   * Whether a reference (what the speakers play) is connected: without one every frame's echo
   * verdict is false and the guard does no work.
   */
  setReferenceConnected(connected: boolean): void {
    this.#referenceConnected = connected;
  }

  /** A transferred frame buffer coming home. Called from the port handler, never from `process()`. */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.#frameBytes) this.#pool.push(this.#makeSlot(buffer));
  }

  /**
   * One block of microphone samples at the context rate (mono). `time` is the context time just
   * after it; `reference` is the same span of what the speakers played (null: silence).
   */
  process(input: Float32Array, time: number, reference: Float32Array | null = null): void {
    // Muted means digital silence with the clock still running (see createCapture's docs).
    const source = !this.#muted
      ? input
      : input.length === this.#silence.length
        ? this.#silence
        : this.#silence.subarray(0, input.length);
    this.#measure(source);
    if (this.#referenceConnected) this.#guard.process(source, reference);
    const count = this.#resampler.processInto(source, this.#resampled);
    floatToPcm16(this.#resampled, this.#pcm);
    let k = 0;
    while (k < count) {
      const take = Math.min(count - k, this.#frameSamples - this.#fill);
      if (this.#encoding === 'linear16') {
        const pcm = this.#slot.pcm;
        for (let j = 0; j < take; j++) pcm[this.#fill + j] = this.#pcm[k + j]!;
      } else {
        const bytes = this.#slot.bytes;
        for (let j = 0; j < take; j++) bytes[this.#fill + j] = mulawEncodeSample(this.#pcm[k + j]!);
      }
      this.#fill += take;
      k += take;
      if (this.#fill === this.#frameSamples) this.#emit(time);
    }
  }

  #emit(time: number): void {
    const full = this.#slot;
    // Muted frames are digital silence already: no verdict, nothing to hold back.
    const echo = this.#referenceConnected && this.#guard.judgeFrame() && !this.#muted;
    if (echo) this.framesEcho++;
    this.#post({ type: 'frame', buffer: full.buffer, time, echo }, [full.buffer]);
    this.framesPosted++;
    const next = this.#pool.pop();
    if (next) {
      this.#slot = next;
    } else {
      // Only when the main thread has not handed buffers back (it is blocked): better one
      // allocation than a lost frame.
      this.extraAllocations++;
      this.#slot = this.#makeSlot(new ArrayBuffer(this.#frameBytes));
    }
    this.#fill = 0;
  }

  #makeSlot(buffer: ArrayBuffer): FrameSlot {
    return {
      buffer,
      bytes: new Uint8Array(buffer),
      pcm: new Int16Array(buffer, 0, this.#encoding === 'linear16' ? this.#frameSamples : 0),
    };
  }

  #measure(block: Float32Array): void {
    for (let i = 0; i < block.length; i++) {
      const s = block[i]!;
      this.#levelSumSquares += s * s;
      const a = s < 0 ? -s : s;
      if (a > this.#levelPeak) this.#levelPeak = a;
    }
    this.#levelFrames += block.length;
    if (this.#levelFrames < this.#levelWindow) return;
    const rms = Math.sqrt(this.#levelSumSquares / this.#levelFrames);
    const peak = this.#levelPeak;
    this.#levelFrames = 0;
    this.#levelSumSquares = 0;
    this.#levelPeak = 0;
    if (this.#levels) {
      this.#levels[LEVEL_SLOT.rms] = rms;
      this.#levels[LEVEL_SLOT.peak] = peak;
      return;
    }
    const silent = peak === 0;
    if (silent && this.#lastReportSilent) return;
    this.#lastReportSilent = silent;
    this.#post({ type: 'level', rms, peak });
  }
}
