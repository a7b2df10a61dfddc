/**
 * The agent listening: the client's audio decoded, fed to the voice activity detector, and the
 * user's turns cut out of the captured audio when the detector hears them end. With turn
 * detection off (push-to-talk: OpenAI's `turn_detection: null`) the audio is only kept, and the
 * client says when a turn is over (`commit`).
 */
import type { createInputDecoder } from '../audio/index.ts';
import type { Tickable, Ticker } from './ticker.ts';
import { createVoiceActivityDetector, type SpeechEndEvent, type VoiceActivityDetector } from './vad.ts';

/** How much audio before the detected onset goes into the played-back utterance. */
const PREROLL_S = 0.15;
const POSTROLL_S = 0.15;
/** Longest utterance the agent records: a stuck microphone must not fill the memory. */
const MAX_UTTERANCE_S = 30;
/**
 * Longest stretch of the user's turn played back: the reply is encoded in one go, and a long
 * compressed encode would hold up every other session's pacing.
 */
const MAX_PLAYBACK_S = 10;
/** When a client stops sending audio mid-turn, its turn ends after the silence time plus this. */
const STALL_GRACE_MS = 300;
/** A muted client's empty frame counts as this much silence until a real frame sets the size. */
const DEFAULT_FRAME_S = 0.02;

type InputDecoder = ReturnType<typeof createInputDecoder>;

/** One finished turn of the user's. */
export interface UserTurn {
  /** The utterance with a little audio either side, at most {@link MAX_PLAYBACK_S} long. */
  utterance: Float32Array;
  sampleRate: number;
  speechSeconds: number;
  /** Where the turn ended in the session's input audio, in ms from its first sample. */
  audioEndMs: number;
  /** `true` when the detector heard it end; `false` when the client committed it. */
  detected: boolean;
}

export interface ListenerEvents {
  /** The user started speaking (barge-in), `audioStartMs` into the session's input audio. */
  onSpeechStart(audioStartMs: number): void;
  onTurnEnd(turn: UserTurn): void;
}

interface CapturedChunk {
  start: number;
  length: number;
  /** `null` for silence (a muted client's empty frames). */
  samples: Float32Array | null;
}

export class TurnListener implements Tickable {
  #decoder: InputDecoder;
  readonly #ticker: Ticker;
  #silenceMs: number;
  readonly #events: ListenerEvents;
  #detectTurns = true;
  #vad: VoiceActivityDetector | undefined;
  /** Input audio before the current detector (rate changes start a new one), in ms. */
  #offsetMs = 0;
  #capture: CapturedChunk[] = [];
  #lastFrameSamples = 0;
  #lastAudioAt = 0;
  #stopped = false;

  constructor(decoder: InputDecoder, ticker: Ticker, silenceMs: number, events: ListenerEvents) {
    this.#decoder = decoder;
    this.#ticker = ticker;
    this.#silenceMs = silenceMs;
    this.#events = events;
  }

  /** Decode what follows with another decoder (the client changed its input format). */
  setDecoder(decoder: InputDecoder): void {
    this.#decoder = decoder;
  }

  /**
   * Turn detection on (the detector ends turns) or off (audio is kept until `commit`). Switching
   * drops what was captured: it belonged to the other way of taking turns.
   */
  setDetectTurns(on: boolean): void {
    if (on === this.#detectTurns) return;
    this.#detectTurns = on;
    this.#restart();
  }

  /** The silence that ends a turn, from the next detector on. */
  setSilenceMs(ms: number): void {
    if (ms === this.#silenceMs) return;
    this.#silenceMs = ms;
    if (!this.#vad?.speaking) this.#restart();
  }

  /** Input audio received so far, in ms. */
  get audioMs(): number {
    const vad = this.#vad;
    return this.#offsetMs + (vad ? (vad.position / vad.sampleRate) * 1000 : 0);
  }

  /**
   * One chunk of the client's audio, as it came over the wire. Returns what is wrong with it (the
   * dialect reports it), or `undefined` when it was taken.
   */
  audioIn(bytes: Uint8Array): string | undefined {
    if (this.#stopped) return undefined;
    let decoded: { samples: Float32Array; sampleRate: number };
    try {
      decoded = this.#decoder.decode(bytes);
    } catch (error) {
      return `could not be decoded: ${errorText(error)}`;
    }
    if (decoded.samples.length === 0) return undefined;
    let vad = this.#vad;
    if (!vad || vad.sampleRate !== decoded.sampleRate) vad = this.#createVad(decoded.sampleRate);
    this.#lastFrameSamples = decoded.samples.length;
    this.#lastAudioAt = performance.now();
    // Copied: a decoder may hand out a view of a buffer it reuses.
    this.#capture.push({
      start: vad.position,
      length: decoded.samples.length,
      samples: decoded.samples.slice(),
    });
    vad.process(decoded.samples);
    this.#afterAudio();
    return undefined;
  }

  /**
   * A frame of silence: a muted client keeps sending empty frames at its frame rate. Counted as
   * silence of the last frame's length, so a turn ends when the user mutes mid-sentence.
   */
  silenceIn(): void {
    const vad = this.#vad;
    if (this.#stopped || !vad) return;
    const count = this.#lastFrameSamples || Math.round(vad.sampleRate * DEFAULT_FRAME_S);
    this.#lastAudioAt = performance.now();
    this.#capture.push({ start: vad.position, length: count, samples: null });
    vad.processSilence(count);
    this.#afterAudio();
  }

  /**
   * The client says the user's turn is over. With turn detection off, everything captured since
   * the last commit is the turn; with it on, a turn in progress ends now. Returns the problem
   * when there is nothing to commit.
   */
  commit(): string | undefined {
    const vad = this.#vad;
    if (this.#stopped) return undefined;
    if (this.#detectTurns) {
      if (!vad?.speaking) return 'there is no speech to commit';
      vad.forceEnd();
      return undefined;
    }
    if (!vad || this.#capture.length === 0) return 'the input audio buffer is empty';
    const first = this.#capture[0]!;
    const last = this.#capture[this.#capture.length - 1]!;
    const from = first.start;
    const to = last.start + last.length;
    const whole = this.#takeUtterance(from, to);
    this.#events.onTurnEnd({
      utterance:
        whole.length > MAX_PLAYBACK_S * vad.sampleRate
          ? whole.slice(0, MAX_PLAYBACK_S * vad.sampleRate)
          : whole,
      sampleRate: vad.sampleRate,
      speechSeconds: measureSpeech(whole, vad.sampleRate, this.#silenceMs),
      audioEndMs: this.audioMs,
      detected: false,
    });
    return undefined;
  }

  /** Forget the audio captured so far (OpenAI's `input_audio_buffer.clear`). */
  clear(): void {
    if (this.#vad?.speaking) this.#restart();
    else this.#capture = [];
  }

  /** Watchdog while the user talks: a client that stops sending mid-turn still gets an end. */
  tick(now: number): void {
    const vad = this.#vad;
    if (!vad?.speaking || this.#stopped) {
      this.#ticker.delete(this);
      return;
    }
    if (now - this.#lastAudioAt > this.#silenceMs + STALL_GRACE_MS) vad.forceEnd();
  }

  /** Stop listening for good: no more events, and the captured audio is let go. */
  stop(): void {
    this.#stopped = true;
    this.#ticker.delete(this);
    this.#capture = [];
  }

  /** A fresh detector at the same rate, with nothing captured and no turn in progress. */
  #restart(): void {
    const vad = this.#vad;
    this.#capture = [];
    if (!vad) return;
    this.#offsetMs += (vad.position / vad.sampleRate) * 1000;
    this.#vad = undefined;
    this.#ticker.delete(this);
  }

  #createVad(sampleRate: number): VoiceActivityDetector {
    const previous = this.#vad;
    if (previous) {
      if (this.#detectTurns) previous.forceEnd();
      this.#offsetMs += (previous.position / previous.sampleRate) * 1000;
    }
    this.#capture = [];
    const offsetMs = this.#offsetMs;
    const detect = this.#detectTurns;
    const vad = createVoiceActivityDetector({
      sampleRate,
      silenceMs: this.#silenceMs,
      onSpeechStart: (event) => {
        if (!detect || this.#vad !== vad) return;
        this.#ticker.add(this);
        this.#events.onSpeechStart(offsetMs + (event.onsetSample / sampleRate) * 1000);
      },
      onSpeechEnd: (event) => {
        if (detect && this.#vad === vad) this.#onSpeechEnd(event, sampleRate, offsetMs);
      },
    });
    this.#vad = vad;
    return vad;
  }

  #afterAudio(): void {
    const vad = this.#vad!;
    const first = this.#capture[0];
    if (!this.#detectTurns) {
      // Push-to-talk: everything is kept until the commit, up to the longest utterance.
      if (first && vad.position - first.start > MAX_UTTERANCE_S * vad.sampleRate) this.#capture.shift();
      return;
    }
    if (vad.speaking) {
      if (first && vad.position - first.start > MAX_UTTERANCE_S * vad.sampleRate) vad.forceEnd();
      return;
    }
    // Not in a turn: keep only the pre-roll the next turn may need.
    const keepFrom = vad.position - Math.ceil(PREROLL_S * 2 * vad.sampleRate);
    let drop = 0;
    while (drop < this.#capture.length) {
      const chunk = this.#capture[drop]!;
      if (chunk.start + chunk.length > keepFrom) break;
      drop++;
    }
    if (drop > 0) this.#capture.splice(0, drop);
  }

  #onSpeechEnd(event: SpeechEndEvent, sampleRate: number, offsetMs: number): void {
    this.#ticker.delete(this);
    if (this.#stopped) return;
    const from = Math.max(0, event.onsetSample - Math.round(PREROLL_S * sampleRate));
    const to = Math.min(
      event.lastSpeechSample + Math.round(POSTROLL_S * sampleRate),
      from + MAX_PLAYBACK_S * sampleRate,
    );
    this.#events.onTurnEnd({
      utterance: this.#takeUtterance(from, to),
      sampleRate,
      speechSeconds: event.speechSeconds,
      audioEndMs: offsetMs + (event.lastSpeechSample / sampleRate) * 1000,
      detected: true,
    });
  }

  /** Samples [from, to) of the captured input; the capture restarts empty. */
  #takeUtterance(from: number, to: number): Float32Array {
    const chunks = this.#capture;
    this.#capture = [];
    const first = chunks[0];
    const last = chunks[chunks.length - 1];
    if (!first || !last) return new Float32Array(0);
    const start = Math.max(from, first.start);
    const end = Math.min(to, last.start + last.length);
    const out = new Float32Array(Math.max(0, end - start));
    for (const chunk of chunks) {
      const a = Math.max(start, chunk.start);
      const b = Math.min(end, chunk.start + chunk.length);
      if (b <= a || chunk.samples === null) continue;
      out.set(chunk.samples.subarray(a - chunk.start, b - chunk.start), a - start);
    }
    return out;
  }
}

/**
 * Seconds of speech in a committed buffer: the detector run over it, the stretches it heard
 * added up. A push-to-talk turn is described like a detected one ("1.2 s of speech").
 */
function measureSpeech(samples: Float32Array, sampleRate: number, silenceMs: number): number {
  let seconds = 0;
  const vad = createVoiceActivityDetector({
    sampleRate,
    silenceMs,
    onSpeechEnd: (event) => {
      seconds += event.speechSeconds;
    },
  });
  vad.process(samples);
  vad.forceEnd();
  return seconds;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
