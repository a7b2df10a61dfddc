/**
 * The agent speaking, for one conversation: the greeting, each response prepared (synthesised
 * and encoded) then paced out by the shared ticker, barge-in and cancellation, and the bookkeeping
 * hanging up depends on. A response being prepared is abandoned when anything newer happens (the
 * user speaks, the client cancels): its generation is no longer the current one.
 */
import type { SessionContext } from './context.ts';
import type { ConversationRecord } from './conversationStore.ts';
import type { DialectConnection } from './dialect.ts';
import { type PreparedSpeech, type ResponseKind, type ResponseOutput, SpeechResponse } from './response.ts';
import { type AudioChunk, clipSource, encodedSpeech, type SpeechOutput } from './speech.ts';

/** What the voice needs from its session. */
export interface VoiceHost {
  readonly ctx: SessionContext;
  readonly conn: DialectConnection;
  readonly conversation: ConversationRecord;
  /** How the agent speaks now (the client may change it between responses). */
  output(): SpeechOutput;
  /** Whether a response of `kind` may still start (the goodbye may while the call is ending). */
  canSpeak(kind: ResponseKind): boolean;
  internalError(what: string, error: unknown): void;
  /** A reply has played out (`hangupAfterTurns` counts these). */
  replyPlayed(): void;
  /** The goodbye has played out, or could not be said. */
  goodbyeDone(): void;
}

export class AgentVoice implements ResponseOutput {
  readonly #host: VoiceHost;
  #response: SpeechResponse | undefined;
  #generation = 0;
  /** The generation of the response being prepared; it is current while nothing bumped it. */
  #preparing = -1;
  #greetingStarted = false;
  #greetingEnded = false;
  #stopped = false;

  constructor(host: VoiceHost) {
    this.#host = host;
  }

  /** Whether the greeting has been started (or dropped). */
  get greeted(): boolean {
    return this.#greetingStarted;
  }

  /** A response is being spoken, or prepared. */
  get busy(): boolean {
    return this.#response !== undefined || this.#preparing === this.#generation;
  }

  speakGreeting(text: string): void {
    if (this.#greetingStarted) return;
    this.#greetingStarted = true;
    // Clients that open their microphone when the greeting ends (PlayAI's SDK does) need that
    // even when there is no greeting: it then comes at once, with an empty message.
    if (text === '') {
      this.endGreeting('');
      return;
    }
    const generation = ++this.#generation;
    this.#preparing = generation;
    encodedSpeech(text, this.#host.output()).then(
      (clip) => {
        // The user spoke first (or left): the greeting is dropped, never talked over them.
        if (generation !== this.#generation || !this.#host.canSpeak('greeting')) {
          this.endGreeting('');
          return;
        }
        this.#start('greeting', text, clipSource(clip), clip.durationMs);
      },
      (error) => {
        this.#host.internalError('could not synthesise the greeting', error);
        this.endGreeting('');
      },
    );
  }

  /** Speak `text` once its audio is ready, unless something newer happened in the meantime. */
  say(kind: ResponseKind, text: string, speech: Promise<PreparedSpeech>, failure: string): void {
    const generation = ++this.#generation;
    this.#preparing = generation;
    speech.then(
      ({ source, speechMs }) => {
        if (generation !== this.#generation || !this.#host.canSpeak(kind)) return;
        this.#interrupt('client');
        this.#start(kind, text, source, speechMs);
      },
      (error) => {
        if (generation === this.#generation) this.#preparing = -1;
        this.#host.internalError(failure, error);
        if (kind === 'goodbye') this.#host.goodbyeDone();
      },
    );
  }

  /** The user spoke: whatever the agent is saying (or about to say) stops now. */
  bargeIn(): void {
    this.#generation++;
    this.#interrupt('speech');
  }

  /** The client stops the response; `false` when there was none. */
  cancel(): boolean {
    const busy = this.busy;
    this.#generation++;
    this.#interrupt('client');
    return busy;
  }

  /** The greeting phase is over, exactly once per call. */
  endGreeting(text: string): void {
    this.#greetingStarted = true;
    if (this.#greetingEnded || this.#stopped) return;
    this.#greetingEnded = true;
    this.#host.conn.greetingEnded(text);
  }

  /** The call is over: nothing more is said. */
  stop(): void {
    this.#stopped = true;
    this.#generation++;
    if (this.#response) this.#host.ctx.ticker.delete(this.#response);
    this.#response = undefined;
  }

  sendAudio(response: SpeechResponse, chunk: AudioChunk): void {
    this.#host.conn.audio(response, chunk);
  }

  /** Called by the response when its audio has played out. */
  responseFinished(response: SpeechResponse): void {
    this.#host.ctx.ticker.delete(response);
    if (this.#response !== response) return;
    this.#response = undefined;
    if (response.kind === 'greeting') this.endGreeting(response.text);
    this.#host.conn.responseDone(response);
    if (response.kind === 'goodbye') this.#host.goodbyeDone();
    else if (response.kind === 'reply') this.#host.replyPlayed();
  }

  #start(kind: ResponseKind, text: string, source: PreparedSpeech['source'], speechMs: number): void {
    this.#preparing = -1;
    const { ctx, conversation, conn } = this.#host;
    const turn = ctx.conversations.addTurn(conversation, { role: 'agent', text, interrupted: false });
    const response = new SpeechResponse(this, kind, text, source, speechMs, turn);
    this.#response = response;
    conn.responseStarted(response);
    ctx.ticker.add(response);
    response.start(performance.now());
  }

  #interrupt(cause: 'speech' | 'client'): void {
    const response = this.#response;
    if (!response) return;
    this.#host.ctx.ticker.delete(response);
    this.#response = undefined;
    const spoken = response.spokenText();
    response.turn.text = spoken;
    response.turn.interrupted = true;
    this.#host.conn.responseInterrupted(response, cause);
    if (response.kind === 'greeting') this.endGreeting(spoken);
  }
}
