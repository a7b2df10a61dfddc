/**
 * What the agent says, as it is said: one spoken response (the greeting, a reply, the goodbye)
 * paced in real time by the shared ticker, and the audio a reply is made of.
 */
import { createResampler } from '@voicewire/core';
import type { ConversationTurn } from './conversationStore.ts';
import {
  type AudioChunk,
  type ChunkSource,
  createEncodingSource,
  type SpeechOutput,
  speechPcm,
} from './speech.ts';
import type { Tickable } from './ticker.ts';

/** What the agent says after the user's turn, before playing the user's own audio back. */
export const REPLY_TEXT = 'Here is what I heard.';
/** What the agent says before it hangs up (`hangupAfterTurns`). */
export const GOODBYE_TEXT = 'That is all for now. Goodbye!';
/** What the agent says when asked for a response with nothing to answer (and no greeting left). */
export const PROMPT_TEXT = "I'm listening.";
/** How far ahead of real time audio may be sent: a small cushion against network jitter. */
const LEAD_MS = 100;
/** Pause between the reply sentence and the played-back utterance. */
const REPLY_GAP_S = 0.25;

/**
 * `greeting`: the conversation's first words; `reply`: an answer to the user (counted for
 * `hangupAfterTurns`); `prompt`: {@link PROMPT_TEXT}, asked for with nothing to answer, or text
 * the client injected for the agent to say; `goodbye`: the last words before hanging up.
 */
export type ResponseKind = 'greeting' | 'reply' | 'prompt' | 'goodbye';

/** Where a response's audio goes: the session that owns it. */
export interface ResponseOutput {
  /** Send a chunk of the response's audio. */
  sendAudio(response: SpeechResponse, chunk: AudioChunk): void;
  /** The response's audio has played out. */
  responseFinished(response: SpeechResponse): void;
}

/**
 * Responses are numbered within the process: PlayAI's `audioStreamEnd.jobId` is this number, as
 * the deployed service sends one (docs/protocol.md), and dialects key their own ids on it.
 */
let lastResponseId = 0;

/** One agent response being spoken: paced by the shared ticker. */
export class SpeechResponse implements Tickable {
  readonly kind: ResponseKind;
  readonly text: string;
  readonly id = ++lastResponseId;
  readonly turn: ConversationTurn;
  /** Audio time of the part that speaks `text` (a reply then plays the user's audio back). */
  readonly speechMs: number;
  readonly #output: ResponseOutput;
  readonly #source: ChunkSource;
  #startedAt = 0;
  #sentMs = 0;
  #exhausted = false;

  constructor(
    output: ResponseOutput,
    kind: ResponseKind,
    text: string,
    source: ChunkSource,
    speechMs: number,
    turn: ConversationTurn,
  ) {
    this.#output = output;
    this.kind = kind;
    this.text = text;
    this.#source = source;
    this.speechMs = speechMs;
    this.turn = turn;
  }

  start(now: number): void {
    this.#startedAt = now;
    this.tick(now);
  }

  tick(now: number): void {
    const elapsed = now - this.#startedAt;
    while (!this.#exhausted && this.#sentMs < elapsed + LEAD_MS) {
      const chunk = this.#source.next();
      if (chunk === null) {
        this.#exhausted = true;
        break;
      }
      if (chunk.bytes.length > 0) this.#output.sendAudio(this, chunk);
      this.#sentMs += chunk.ms;
    }
    // The end is announced when the audio has had time to play, not when the last byte left:
    // until then a barge-in still interrupts something the user hears.
    if (this.#exhausted && elapsed >= this.#sentMs) this.#output.responseFinished(this);
  }

  /** Audio sent so far, in ms. */
  get sentMs(): number {
    return this.#sentMs;
  }

  /** The whole response's audio, in ms. */
  get durationMs(): number {
    return this.#source.durationMs;
  }

  /** The words of `text` spoken by now, in proportion to the audio sent. */
  spokenText(): string {
    return this.heardText(this.#sentMs);
  }

  /** The words of `text` within the first `audioMs` of the response's audio. */
  heardText(audioMs: number): string {
    if (this.speechMs <= 0 || audioMs >= this.speechMs) return this.text;
    return wordPrefix(this.text, audioMs / this.speechMs);
  }
}

/** Audio ready to be spoken, and how much of it speaks the response's text. */
export interface PreparedSpeech {
  source: ChunkSource;
  speechMs: number;
}

/** `text` spoken in the session's output format. */
export async function prepareText(text: string, output: SpeechOutput): Promise<PreparedSpeech> {
  const { format, sampleRate, voice } = output;
  const pcm = await speechPcm(text, sampleRate, voice);
  const source = await createEncodingSource(pcm, format, sampleRate);
  return { source, speechMs: (pcm.length / sampleRate) * 1000 };
}

/**
 * The reply to a spoken turn: {@link REPLY_TEXT}, a short pause, then the user's own utterance
 * played back at the output rate, so a listener hears the whole audio path end to end.
 */
export async function prepareReply(
  utterance: Float32Array,
  inputRate: number,
  output: SpeechOutput,
): Promise<PreparedSpeech> {
  const { format, sampleRate: outputRate, voice } = output;
  const sentence = await speechPcm(REPLY_TEXT, outputRate, voice);
  const echoed = inputRate === outputRate ? utterance : resampleWhole(utterance, inputRate, outputRate);
  const gap = Math.round(REPLY_GAP_S * outputRate);
  const pcm = new Float32Array(sentence.length + gap + echoed.length);
  pcm.set(sentence, 0);
  pcm.set(echoed, sentence.length + gap);
  const source = await createEncodingSource(pcm, format, outputRate);
  return { source, speechMs: (sentence.length / outputRate) * 1000 };
}

/** The first `fraction` of `text`, cut back to a whole word. */
export function wordPrefix(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  if (fraction <= 0) return '';
  const cut = Math.floor(text.length * fraction);
  if (cut >= text.length) return text;
  const nextIsBoundary = /\s/.test(text[cut] ?? ' ');
  const head = text.slice(0, cut);
  const prefix = nextIsBoundary ? head : head.slice(0, Math.max(0, head.search(/\s\S*$/)));
  return prefix.trimEnd();
}

/**
 * A whole utterance at another rate, aligned: the streaming resampler's output lags by its filter
 * delay, so the input is padded by that much and the lead-in dropped, keeping the last syllable.
 */
function resampleWhole(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  const resampler = createResampler(fromRate, toRate);
  const delay = Math.round(resampler.latencySamples);
  const expected = Math.round((samples.length * toRate) / fromRate);
  const padded = new Float32Array(samples.length + Math.ceil(((delay + 2) * fromRate) / toRate) + 2);
  padded.set(samples);
  return resampler.process(padded).subarray(delay, delay + expected);
}
