/**
 * The agent listening: `audioIn` frames decoded, fed to the voice activity detector, and the
 * user's turns cut out of the captured audio when the detector hears them end.
 */
import { decodeBase64 } from '@voicewire/core';
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

/** One finished turn of the user's. */
export interface UserTurn {
  /** The utterance with a little audio either side, at most {@link MAX_PLAYBACK_S} long. */
  utterance: Float32Array;
  sampleRate: number;
  speechSeconds: number;
}

export interface ListenerEvents {
  /** The user started speaking (barge-in). */
  onSpeechStart(): void;
  onTurnEnd(turn: UserTurn): void;
}

interface CapturedChunk {
  start: number;
  length: number;
  /** `null` for silence (a muted client's empty frames). */
  samples: Float32Array | null;
}

export class TurnListener implements Tickable {
  readonly #decoder: ReturnType<typeof createInputDecoder>;
  readonly #ticker: Ticker;
  readonly #silenceMs: number;
  readonly #events: ListenerEvents;
  #vad: VoiceActivityDetector | undefined;
  #capture: CapturedChunk[] = [];
  #lastFrameSamples = 0;
  #lastAudioAt = 0;
  #stopped = false;

  constructor(
    decoder: ReturnType<typeof createInputDecoder>,
    ticker: Ticker,
    silenceMs: number,
    events: ListenerEvents,
  ) {
    this.#decoder = decoder;
    this.#ticker = ticker;
    this.#silenceMs = silenceMs;
    this.#events = events;
  }

  /**
   * One `audioIn` frame's `data`. Returns what is wrong with it (the session answers 4400), or
   * `undefined` when it was taken.
   */
  audioIn(data: string): string | undefined {
    if (this.#stopped) return undefined;
    if (data === '') {
      // A muted client keeps sending empty frames at its frame rate: count them as silence of
      // the last frame's length, so a turn ends when the user mutes mid-sentence.
      const vad = this.#vad;
      if (!vad) return undefined;
      const count = this.#lastFrameSamples || Math.round(vad.sampleRate * 0.02);
      this.#lastAudioAt = performance.now();
      this.#capture.push({ start: vad.position, length: count, samples: null });
      vad.processSilence(count);
      this.#afterAudio();
      return undefined;
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(data);
    } catch (error) {
      return `audioIn.data is not valid base64 (${errorText(error)}).`;
    }
    let decoded: { samples: Float32Array; sampleRate: number };
    try {
      decoded = this.#decoder.decode(bytes);
    } catch (error) {
      return `audioIn could not be decoded: ${errorText(error)}`;
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

  #createVad(sampleRate: number): VoiceActivityDetector {
    this.#vad?.forceEnd();
    this.#capture = [];
    const vad = createVoiceActivityDetector({
      sampleRate,
      silenceMs: this.#silenceMs,
      onSpeechStart: () => {
        this.#ticker.add(this);
        this.#events.onSpeechStart();
      },
      onSpeechEnd: (event) => this.#onSpeechEnd(event, sampleRate),
    });
    this.#vad = vad;
    return vad;
  }

  #afterAudio(): void {
    const vad = this.#vad!;
    if (vad.speaking) {
      const first = this.#capture[0];
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

  #onSpeechEnd(event: SpeechEndEvent, sampleRate: number): void {
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
