import { LEVEL_SLOT, type PlayerOutMessage } from './messages.ts';

export interface PlayerEngineOptions {
  /** Ring size in frames at the context rate; overflow waits in a list until there is room. */
  capacityFrames: number;
  /** Audio buffered before a stream starts (or waited for, whichever comes first). */
  initialJitterFrames: number;
  /** Ceiling for the jitter target after repeated underruns. */
  maxJitterFrames: number;
  /** Length of the interrupt / new-stream fade. */
  fadeFrames: number;
  volume: number;
  /** Frames between two level reports. */
  levelWindowFrames: number;
  post: (message: PlayerOutMessage) => void;
  /** Shared level slots, written instead of posting `status` when present. */
  levels?: Float32Array;
}

type PlayState = 'idle' | 'buffering' | 'playing' | 'fading';

/**
 * The player worklet's logic without the `AudioWorkletProcessor` around it, so Node tests can
 * drive it quantum by quantum. Nothing here allocates in `render()`: samples live in one
 * preallocated ring, and the only growth (the overflow list) happens in `push()`, which runs
 * from the port's message handler, not from `process()`.
 */
export class PlayerEngine {
  readonly #ring: Float32Array;
  readonly #capacity: number;
  /** Absolute read and write positions (never wrapped; a double holds 2^53 frames). */
  #read = 0;
  #write = 0;
  readonly #overflow: Float32Array[] = [];
  #overflowOffset = 0;

  #generation = 0;
  #accepting = true;
  #ended = false;
  #state: PlayState = 'idle';
  /** The stream reported `drained` and was not ended: more audio of it means an underrun. */
  #drainedOpen = false;
  #startedGeneration = -1;
  #underrunsThisStream = 0;
  #waitedFrames = 0;
  #lastFrame = 0;
  /** Frames of the current stream rendered while playing: its played position. */
  #playedFrames = 0;

  #fadeRemaining = 0;
  #discardAt = 0;

  readonly #initialJitter: number;
  readonly #maxJitter: number;
  #jitterTarget: number;
  readonly #fadeFrames: number;
  #volume: number;
  #gain: number;
  underruns = 0;
  /** Every `push` call, dropped or not (the main thread compares it with what it sent). */
  pushesReceived = 0;

  readonly #post: (message: PlayerOutMessage) => void;
  readonly #levels: Float32Array | undefined;
  readonly #levelWindow: number;
  #levelFrames = 0;
  #levelSumSquares = 0;
  #levelPeak = 0;
  #lastReportSilent = true;
  #lastReportedBuffered = 0;

  constructor(options: PlayerEngineOptions) {
    this.#capacity = options.capacityFrames;
    this.#ring = new Float32Array(options.capacityFrames);
    this.#initialJitter = options.initialJitterFrames;
    this.#jitterTarget = options.initialJitterFrames;
    this.#maxJitter = options.maxJitterFrames;
    this.#fadeFrames = Math.max(1, options.fadeFrames);
    this.#volume = options.volume;
    this.#gain = options.volume;
    this.#post = options.post;
    this.#levels = options.levels;
    this.#levelWindow = options.levelWindowFrames;
  }

  get bufferedFrames(): number {
    let queued = this.#write - this.#read;
    for (const chunk of this.#overflow) queued += chunk.length;
    return queued - this.#overflowOffset;
  }

  get jitterTargetFrames(): number {
    return this.#jitterTarget;
  }

  /** Frames of the current stream rendered so far (what the listener has heard of it). */
  get playedFrames(): number {
    return this.#playedFrames;
  }

  get state(): PlayState {
    return this.#state;
  }

  /** Queue samples of `generation`; returns false when they were dropped (an interrupted or stale stream). */
  push(generation: number, samples: Float32Array): boolean {
    this.pushesReceived++;
    if (!this.#accepting || generation !== this.#generation) return false;
    if (samples.length === 0) return true;
    if (this.#drainedOpen) {
      // The stream ran dry and then more of it came: that silence was an underrun, not its end.
      this.#drainedOpen = false;
      this.#countUnderrun();
    }
    if (this.#overflow.length > 0) {
      this.#overflow.push(samples);
    } else {
      const free = this.#capacity - (this.#write - this.#read);
      const direct = Math.min(free, samples.length);
      this.#writeRing(samples, 0, direct);
      if (direct < samples.length) this.#overflow.push(samples.subarray(direct));
    }
    if (this.#state === 'idle') {
      this.#state = 'buffering';
      this.#waitedFrames = 0;
    }
    return true;
  }

  /** Fade out and drop everything, including what arrives before the next `newStream`. */
  interrupt(frame: number): void {
    this.#accepting = false;
    this.#beginFadeOrCut(frame);
  }

  /** Fade out whatever still plays (an old stream) and accept `generation` from now on. */
  newStream(generation: number, frame: number): void {
    this.#beginFadeOrCut(frame);
    this.#generation = generation;
    this.#accepting = true;
    this.#ended = false;
    this.#drainedOpen = false;
    this.#underrunsThisStream = 0;
    this.#playedFrames = 0;
  }

  endStream(generation: number): void {
    if (generation !== this.#generation) return;
    this.#ended = true;
    this.#drainedOpen = false;
  }

  setVolume(volume: number): void {
    this.#volume = volume;
  }

  /** Render one quantum into `out` (mono). `frame` is the context frame of `out[0]`. */
  render(out: Float32Array, frame: number): void {
    this.#lastFrame = frame;
    this.#refillFromOverflow();
    const n = out.length;
    let i = 0;

    if (this.#state === 'fading') {
      while (i < n && this.#fadeRemaining > 0) {
        const fade = this.#fadeRemaining / this.#fadeFrames;
        // Only the old stream fades: a new stream's audio queued behind `discardAt` waits.
        const sample = this.#read < this.#discardAt ? this.#next() : 0;
        out[i] = sample * this.#stepGain() * fade;
        this.#fadeRemaining--;
        i++;
      }
      if (this.#fadeRemaining === 0) {
        this.#read = Math.max(this.#read, this.#discardAt);
        this.#post({ type: 'silenced', frame: frame + i });
        this.#state = this.#write > this.#read ? 'buffering' : 'idle';
        this.#waitedFrames = 0;
      }
    }

    if (this.#state === 'buffering') {
      const available = this.#write - this.#read;
      this.#waitedFrames += n;
      if (
        available >= this.#jitterTarget ||
        (available > 0 && (this.#waitedFrames >= this.#jitterTarget || this.#ended))
      ) {
        this.#state = 'playing';
        if (this.#startedGeneration !== this.#generation) {
          this.#startedGeneration = this.#generation;
          this.#post({ type: 'started', generation: this.#generation, frame: frame + i });
        }
      }
    }

    if (this.#state === 'playing') {
      const from = i;
      while (i < n && this.#write > this.#read) {
        out[i] = this.#next() * this.#stepGain();
        i++;
        if (this.#write === this.#read) this.#refillFromOverflow();
      }
      this.#playedFrames += i - from;
      if (this.#write === this.#read) {
        this.#state = 'idle';
        if (this.#underrunsThisStream === 0) {
          // A clean stream: let the target drift back towards the fast start.
          this.#jitterTarget = Math.max(this.#initialJitter, this.#jitterTarget - (this.#initialJitter >> 2));
        }
        this.#drainedOpen = !this.#ended;
        this.#post({
          type: 'drained',
          generation: this.#generation,
          frame: frame + i,
          pushes: this.pushesReceived,
        });
      }
    }

    for (; i < n; i++) out[i] = 0;
    this.#measure(out);
  }

  #beginFadeOrCut(frame: number): void {
    // Audio not yet in the ring cannot have been heard: drop it now.
    this.#overflow.length = 0;
    this.#overflowOffset = 0;
    this.#discardAt = this.#write;
    if (this.#state === 'playing' || this.#state === 'fading') {
      if (this.#state === 'playing') this.#fadeRemaining = this.#fadeFrames;
      this.#state = 'fading';
    } else {
      this.#read = this.#write;
      this.#state = 'idle';
      this.#post({ type: 'silenced', frame });
    }
  }

  #countUnderrun(): void {
    this.underruns++;
    this.#underrunsThisStream++;
    this.#jitterTarget = Math.min(this.#maxJitter, this.#jitterTarget + this.#initialJitter);
    this.#post({ type: 'underrun', generation: this.#generation, frame: this.#lastFrame });
  }

  #next(): number {
    if (this.#read >= this.#write) return 0;
    const sample = this.#ring[this.#read % this.#capacity] ?? 0;
    this.#read++;
    return sample;
  }

  /** Volume changes ramp over the fade length, so they never click. */
  #stepGain(): number {
    const step = 1 / this.#fadeFrames;
    if (this.#gain < this.#volume) this.#gain = Math.min(this.#volume, this.#gain + step);
    else if (this.#gain > this.#volume) this.#gain = Math.max(this.#volume, this.#gain - step);
    return this.#gain;
  }

  #writeRing(samples: Float32Array, from: number, count: number): void {
    for (let k = 0; k < count; k++) {
      this.#ring[(this.#write + k) % this.#capacity] = samples[from + k] ?? 0;
    }
    this.#write += count;
  }

  #refillFromOverflow(): void {
    while (this.#overflow.length > 0) {
      const chunk = this.#overflow[0]!;
      const free = this.#capacity - (this.#write - this.#read);
      if (free === 0) return;
      const count = Math.min(free, chunk.length - this.#overflowOffset);
      this.#writeRing(chunk, this.#overflowOffset, count);
      this.#overflowOffset += count;
      if (this.#overflowOffset < chunk.length) return;
      this.#overflow.shift();
      this.#overflowOffset = 0;
    }
  }

  #measure(out: Float32Array): void {
    if (this.#levels) this.#levels[LEVEL_SLOT.playedFrames] = this.#playedFrames;
    for (let k = 0; k < out.length; k++) {
      const s = out[k] ?? 0;
      this.#levelSumSquares += s * s;
      const a = s < 0 ? -s : s;
      if (a > this.#levelPeak) this.#levelPeak = a;
    }
    this.#levelFrames += out.length;
    if (this.#levelFrames < this.#levelWindow) return;
    const rms = Math.sqrt(this.#levelSumSquares / this.#levelFrames);
    const peak = this.#levelPeak;
    this.#levelFrames = 0;
    this.#levelSumSquares = 0;
    this.#levelPeak = 0;
    const buffered = this.bufferedFrames;
    if (this.#levels) {
      this.#levels[LEVEL_SLOT.rms] = rms;
      this.#levels[LEVEL_SLOT.peak] = peak;
      this.#levels[LEVEL_SLOT.bufferedFrames] = buffered;
      this.#levels[LEVEL_SLOT.jitterTargetFrames] = this.#jitterTarget;
      this.#levels[LEVEL_SLOT.underruns] = this.underruns;
      return;
    }
    // Without shared memory, report only while something changes: a silent idle player posts nothing.
    const silent = peak === 0;
    if (silent && this.#lastReportSilent && buffered === this.#lastReportedBuffered) return;
    this.#lastReportSilent = silent;
    this.#lastReportedBuffered = buffered;
    this.#post({
      type: 'status',
      rms,
      peak,
      bufferedFrames: buffered,
      jitterTargetFrames: this.#jitterTarget,
      underruns: this.underruns,
      playedFrames: this.#playedFrames,
      frame: this.#lastFrame + out.length,
    });
  }
}
