/**
 * Voice activity detection for the local agent: frame energy against an adaptive noise floor,
 * with an onset requirement (a click is not speech) and a hangover (the pauses between words are
 * not the end of a turn). It works at any sample rate: the signal is cut into 10 ms frames of
 * whatever length that is, and only a running sum is kept, so `process` never allocates.
 *
 * Positions are counted in samples of the input, so callers and tests reason about "when" in
 * audio time rather than wall-clock time.
 */

export interface VoiceActivityDetectorOptions {
  /** Hz. */
  sampleRate: number;
  /**
   * How long the input must stay below the speech level before the turn is over.
   * @defaultValue 600
   */
  silenceMs?: number;
  /**
   * How much speech (within a short window) it takes to decide that someone is talking.
   * @defaultValue 60
   */
  onsetMs?: number;
  /**
   * How far above the noise floor a frame must be to count as speech when starting.
   * @defaultValue 10
   */
  thresholdDb?: number;
  /**
   * The quietest level that can ever count as speech, whatever the noise floor: digital silence
   * followed by hiss must not trigger.
   * @defaultValue -52
   */
  minSpeechDb?: number;
  onSpeechStart?: (event: SpeechStartEvent) => void;
  onSpeechEnd?: (event: SpeechEndEvent) => void;
}

export interface SpeechStartEvent {
  /** Sample position where the speech began (the first loud frame of the onset). */
  onsetSample: number;
  /** Sample position at which the detector decided (the end of the frame that tipped it). */
  detectedSample: number;
}

export interface SpeechEndEvent {
  onsetSample: number;
  /** Sample position just after the last frame that counted as speech. */
  lastSpeechSample: number;
  /** Sample position at which the silence lasted long enough. */
  detectedSample: number;
  /** `lastSpeechSample - onsetSample`, in seconds. */
  speechSeconds: number;
}

export interface VoiceActivityDetector {
  readonly sampleRate: number;
  /** Whether a turn is in progress (between a start and its end). */
  readonly speaking: boolean;
  /** Samples processed so far. */
  readonly position: number;
  /** The current noise-floor estimate, dBFS. */
  readonly noiseFloorDb: number;
  /** Feed decoded mono samples; events fire synchronously from inside this call. */
  process(samples: Float32Array): void;
  /** Feed `count` samples of digital silence (a muted client sends empty frames). */
  processSilence(count: number): void;
  /** End a turn in progress now (the client went quiet without sending silence). */
  forceEnd(): void;
}

const FRAME_MS = 10;
/** The onset must be found within this many frames (speech has gaps even inside a syllable). */
const ONSET_WINDOW_FRAMES = 10;
/** Once talking, a frame this far above the floor keeps the turn alive (hysteresis). */
const CONTINUE_MARGIN_DB = 6;
/** Noise floor never assumed below this: digital silence would make any hiss look like speech. */
const FLOOR_MIN_DB = -75;
/** The first frame sets the floor, but never above this. */
const FLOOR_INITIAL_MAX_DB = -45;
/** The floor follows quieter input quickly (time constant ~50 ms)... */
const FLOOR_FALL_PER_FRAME = 0.2;
/** ...and louder input slowly (~1 s), so a fan or hum that sets in becomes "noise"... */
const FLOOR_RISE_PER_FRAME = 1 / 100;
/**
 * ...and more slowly still while someone talks (~4 s). Speech dips between words pull the floor
 * back down, so only a steady sound (a noise that started mid-turn) can lift it enough to end the
 * turn; a real talker is never taught away.
 */
const FLOOR_RISE_SPEAKING_PER_FRAME = 1 / 400;
/** A high-pass at ~80 Hz keeps DC offsets and mains hum out of the energy. */
const HIGHPASS_HZ = 80;

export function createVoiceActivityDetector(options: VoiceActivityDetectorOptions): VoiceActivityDetector {
  const sampleRate = options.sampleRate;
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive number, got ${sampleRate}`);
  }
  const silenceMs = options.silenceMs ?? 600;
  const onsetFrames = Math.max(1, Math.round((options.onsetMs ?? 60) / FRAME_MS));
  const thresholdDb = options.thresholdDb ?? 10;
  const minSpeechDb = options.minSpeechDb ?? -52;
  const hangoverFrames = Math.max(1, Math.round(silenceMs / FRAME_MS));
  const frameLength = Math.max(1, Math.round((sampleRate * FRAME_MS) / 1000));
  const highpassPole = Math.exp((-2 * Math.PI * HIGHPASS_HZ) / sampleRate);

  let position = 0;
  let frameFill = 0;
  let frameEnergy = 0;
  let prevIn = 0;
  let prevOut = 0;
  /**
   * Unknown until the first frame, then that frame's level, capped: steady noise from the start
   * is not speech, but neither is a client whose first frame is already speech deaf to it.
   */
  let floorDb = Number.NaN;
  let speaking = false;
  // Ring of the recent frames' "loud" flags for the onset window (bit i = frame i ago).
  let recentLoud = 0;
  let onsetSample = 0;
  let lastSpeechSample = 0;
  let quietFrames = 0;

  function endFrame(): void {
    const frameEnd = position;
    const frameStart = frameEnd - frameLength;
    const energy = frameEnergy / frameLength;
    frameEnergy = 0;
    frameFill = 0;
    const db = energy > 1e-12 ? 10 * Math.log10(energy) : -120;
    if (Number.isNaN(floorDb)) floorDb = Math.min(Math.max(db, FLOOR_MIN_DB), FLOOR_INITIAL_MAX_DB);

    if (!speaking) {
      const loud = db > Math.max(floorDb + thresholdDb, minSpeechDb);
      recentLoud = ((recentLoud << 1) | (loud ? 1 : 0)) & ((1 << ONSET_WINDOW_FRAMES) - 1);
      if (popcount(recentLoud) >= onsetFrames) {
        speaking = true;
        quietFrames = 0;
        // The oldest loud frame still in the window is where the speech began.
        const framesAgo = 31 - Math.clz32(recentLoud);
        onsetSample = Math.max(0, frameStart - framesAgo * frameLength);
        lastSpeechSample = frameEnd;
        recentLoud = 0;
        options.onSpeechStart?.({ onsetSample, detectedSample: frameEnd });
      }
    } else {
      const voiced = db > Math.max(floorDb + CONTINUE_MARGIN_DB, minSpeechDb - CONTINUE_MARGIN_DB);
      if (voiced) {
        quietFrames = 0;
        lastSpeechSample = frameEnd;
      } else if (++quietFrames >= hangoverFrames) {
        finish(frameEnd);
      }
    }

    // Adapt the floor last, so the frame that starts speech is judged against the floor before it.
    const target = Math.max(db, FLOOR_MIN_DB);
    if (target < floorDb) floorDb += (target - floorDb) * FLOOR_FALL_PER_FRAME;
    else floorDb += (target - floorDb) * (speaking ? FLOOR_RISE_SPEAKING_PER_FRAME : FLOOR_RISE_PER_FRAME);
  }

  function finish(detectedSample: number): void {
    speaking = false;
    quietFrames = 0;
    recentLoud = 0;
    options.onSpeechEnd?.({
      onsetSample,
      lastSpeechSample,
      detectedSample,
      speechSeconds: (lastSpeechSample - onsetSample) / sampleRate,
    });
  }

  return {
    sampleRate,
    get speaking() {
      return speaking;
    },
    get position() {
      return position;
    },
    get noiseFloorDb() {
      return floorDb;
    },
    process(samples: Float32Array): void {
      for (let i = 0; i < samples.length; i++) {
        const x = samples[i]!;
        // One-pole DC blocker / high-pass: y[n] = x[n] - x[n-1] + p * y[n-1].
        const y = x - prevIn + highpassPole * prevOut;
        prevIn = x;
        prevOut = y;
        frameEnergy += y * y;
        position++;
        if (++frameFill === frameLength) endFrame();
      }
    },
    processSilence(count: number): void {
      for (let i = 0; i < count; i++) {
        const y = -prevIn + highpassPole * prevOut;
        prevIn = 0;
        prevOut = y;
        frameEnergy += y * y;
        position++;
        if (++frameFill === frameLength) endFrame();
      }
    },
    forceEnd(): void {
      if (speaking) finish(position);
    },
  };
}

function popcount(bits: number): number {
  let count = 0;
  while (bits !== 0) {
    bits &= bits - 1;
    count++;
  }
  return count;
}
