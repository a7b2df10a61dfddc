/**
 * One connection to the local agent, from the socket opening to its close: the setup handshake,
 * the greeting, turn-taking on the decoded microphone audio, barge-in, and the faults a client
 * asked for in the URL.
 */
import { randomBytes } from 'node:crypto';
import {
  createResampler,
  decodeBase64,
  describeErrorCode,
  type OutputFormat,
  parseClientMessage,
  type ResolvedSetup,
  validateSetup,
} from '@voicewire/core';
import WebSocket from 'ws';
import { canDecodeInput, createInputDecoder } from '../audio/index.ts';
import type { ConversationRecord, ConversationStore, ConversationTurn } from './conversationStore.ts';
import { describeFaults, type Fault, GARBAGE_FRAMES } from './faults.ts';
import {
  type ChunkSource,
  clipSource,
  createEncodingSource,
  type EncodedClip,
  encodedSpeech,
  speechPcm,
  warmSpeech,
} from './speech.ts';
import type { Tickable, Ticker } from './ticker.ts';
import { createVoiceActivityDetector, type SpeechEndEvent, type VoiceActivityDetector } from './vad.ts';

/** What every session of one agent shares. */
export interface SessionContext {
  readonly ticker: Ticker;
  readonly conversations: ConversationStore;
  /** Sessions past a successful setup: what `maxConnections` counts. */
  readonly liveSessions: Set<AgentSession>;
  readonly silenceMs: number;
  readonly greeting: string;
  readonly maxConnections: number;
  /** Checks the key and the agent id together: `undefined` when both are fine. */
  authorize(apiKey: string | undefined, agentId: string): { code: number; message: string } | undefined;
  log(line: string): void;
}

export interface SessionInit {
  /** From the URL path; `undefined` when the path had none. */
  agentId: string | undefined;
  faults: { ok: true; faults: Fault[] } | { ok: false; error: string };
  /** For the log: who connected and to what (never the query, which may carry a token). */
  remote: string;
  path: string;
}

/** What the agent says after the user's turn, before playing the user's own audio back. */
export const REPLY_TEXT = 'Here is what I heard.';
/** How far ahead of real time audio may be sent: a small cushion against network jitter. */
const LEAD_MS = 100;
/** Without a setup in this long, the connection is not a client of ours. */
const SETUP_TIMEOUT_MS = 15_000;
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
/** Pause between the reply sentence and the played-back utterance. */
const REPLY_GAP_S = 0.25;
/** Longest `customInput` text spoken back. */
const MAX_CUSTOM_INPUT_CHARS = 300;
/** When a client stops sending audio mid-turn, its turn ends after the silence time plus this. */
const STALL_GRACE_MS = 300;

/** Frames prepared as bytes are still JSON text frames. */
const TEXT_FRAME = { binary: false } as const;

const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidAgentId(agentId: string): boolean {
  return AGENT_ID_PATTERN.test(agentId);
}

type SessionState = 'awaiting-setup' | 'live' | 'closed';

interface CapturedChunk {
  start: number;
  length: number;
  /** `null` for silence (a muted client's empty frames). */
  samples: Float32Array | null;
}

/** One agent response being spoken: paced by the shared ticker. */
class SpeechResponse implements Tickable {
  readonly kind: 'greeting' | 'reply';
  readonly text: string;
  readonly jobId: string;
  readonly turn: ConversationTurn;
  /** Audio time of the part that speaks `text` (a reply then plays the user's audio back). */
  readonly speechMs: number;
  readonly #session: AgentSession;
  readonly #source: ChunkSource;
  #startedAt = 0;
  #sentMs = 0;
  #exhausted = false;

  constructor(
    session: AgentSession,
    kind: 'greeting' | 'reply',
    text: string,
    source: ChunkSource,
    speechMs: number,
    turn: ConversationTurn,
  ) {
    this.#session = session;
    this.kind = kind;
    this.text = text;
    this.#source = source;
    this.speechMs = speechMs;
    this.turn = turn;
    this.jobId = `job_${randomId()}`;
  }

  get sentMs(): number {
    return this.#sentMs;
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
      if (chunk.frame !== null) this.#session.sendFrame(chunk.frame);
      this.#sentMs += chunk.ms;
    }
    // The end is announced when the audio has had time to play, not when the last byte left:
    // until then a barge-in still interrupts something the user hears.
    if (this.#exhausted && elapsed >= this.#sentMs) this.#session.responseFinished(this);
  }

  /** The words of `text` spoken by now, in proportion to the audio sent. */
  spokenText(): string {
    if (this.speechMs <= 0 || this.#sentMs >= this.speechMs) return this.text;
    return wordPrefix(this.text, this.#sentMs / this.speechMs);
  }
}

export class AgentSession implements Tickable {
  readonly #ws: WebSocket;
  readonly #ctx: SessionContext;
  readonly #init: SessionInit;
  readonly #openedAt = Date.now();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #state: SessionState = 'awaiting-setup';
  #setup: ResolvedSetup | undefined;
  #conversation: ConversationRecord | undefined;
  #resumed = false;
  #decoder: ReturnType<typeof createInputDecoder> | undefined;
  #vad: VoiceActivityDetector | undefined;
  #capture: CapturedChunk[] = [];
  #lastFrameSamples = 0;
  #lastAudioAt = 0;
  #response: SpeechResponse | undefined;
  /** Bumped whenever a response in preparation must be abandoned (barge-in, close). */
  #generation = 0;
  #garbage = false;
  #garbageCount = 0;
  #setupSummary = 'no setup';
  #serverClose: { code: number; reason: string } | undefined;
  #errorsSent = 0;
  #socketError: string | undefined;

  constructor(ws: WebSocket, ctx: SessionContext, init: SessionInit) {
    this.#ws = ws;
    this.#ctx = ctx;
    this.#init = init;
    ws.on('message', (data, isBinary) => {
      try {
        this.#onMessage(data, isBinary);
      } catch (error) {
        // A bug of ours must cost one message, never the process and every other session.
        if (this.#state === 'awaiting-setup') {
          this.#ctx.log(`voicewire-agent: ${this.#init.remote} setup failed: ${errorText(error)}`);
          this.#failSetup(4500, 'Internal error: the local agent failed on the setup message.', 1011);
        } else this.#internalError('failed on a message', error);
      }
    });
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    // ws reports protocol violations (invalid UTF-8, a frame over maxPayload) here, then closes.
    ws.on('error', (error) => {
      this.#socketError ??= error.message;
    });
    this.#later(SETUP_TIMEOUT_MS, () => {
      if (this.#state === 'awaiting-setup') {
        this.#failSetup(4400, `No setup message within ${SETUP_TIMEOUT_MS / 1000} s of connecting.`, 1008);
      }
    });
  }

  get conversationId(): string | undefined {
    return this.#conversation?.id;
  }

  /** Close from the server's side (the agent is shutting down). */
  shutdown(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  // -------------------------------------------------------------------------------------------
  // Incoming frames

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    if (isBinary) {
      const message = 'Binary frames are not part of the protocol: send JSON text frames.';
      if (this.#state === 'awaiting-setup') this.#failSetup(4400, message, 1003);
      else this.#sendError(4400, message, false);
      return;
    }
    // ws hands text frames over as a Buffer (its default binaryType); decode without copying.
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    if (this.#state === 'awaiting-setup') this.#onSetup(text);
    else this.#onLiveMessage(text);
  }

  #onSetup(text: string): void {
    const parsed = parseClientMessage(text);
    if (parsed.kind === 'invalid') {
      // A setup that fails validation comes back as invalid too, with the exact reason.
      const malformedJson = parsed.error.startsWith('malformed JSON');
      this.#failSetup(4400, `Invalid parameters: ${parsed.error}`, malformedJson ? 1007 : 1008);
      return;
    }
    if (parsed.kind === 'unknown' || parsed.message.type !== 'setup') {
      const type = parsed.kind === 'unknown' ? parsed.type : parsed.message.type;
      this.#failSetup(
        4400,
        `Invalid parameters: the first message must be a "setup" message, got "${clip(type)}".`,
        1008,
      );
      return;
    }
    const message = parsed.message;
    const validated = validateSetup(message);
    if (!validated.ok) {
      this.#failSetup(4400, `Invalid parameters: ${validated.message}`, 1008);
      return;
    }
    const setup = validated.setup;

    const agentId = this.#init.agentId ?? '';
    const refused = this.#ctx.authorize(setup.apiKey, agentId);
    if (refused) {
      this.#failSetup(refused.code, refused.message, 1008);
      return;
    }
    if (!this.#init.faults.ok) {
      this.#failSetup(4400, `Invalid parameters: ${this.#init.faults.error}`, 1008);
      return;
    }
    if (!canDecodeInput(setup.inputEncoding)) {
      this.#failSetup(
        4400,
        `Invalid parameters: the local agent cannot decode inputEncoding "${setup.inputEncoding}"; use "linear16", "mulaw" or "media-container" (WAV, WebM/Opus or Ogg/Opus).`,
        1008,
      );
      return;
    }
    let conversation: ConversationRecord | undefined;
    if (setup.continueConversation !== undefined) {
      conversation = this.#ctx.conversations.get(setup.continueConversation);
      if (!conversation || conversation.agentId !== agentId) {
        this.#failSetup(
          4400,
          `Invalid parameters: continueConversation "${clip(setup.continueConversation)}" is not a conversation this agent knows.`,
          1008,
        );
        return;
      }
    }
    if (this.#ctx.liveSessions.size >= this.#ctx.maxConnections) {
      const info = describeErrorCode(4429);
      this.#failSetup(4429, `${info.message} (this local agent allows ${this.#ctx.maxConnections}).`, 1013);
      return;
    }
    try {
      this.#decoder = createInputDecoder(setup.inputEncoding, setup.inputSampleRate);
    } catch (error) {
      this.#failSetup(4400, `Invalid parameters: ${errorText(error)}`, 1008);
      return;
    }

    this.#state = 'live';
    this.#setup = setup;
    this.#ctx.liveSessions.add(this);
    this.#resumed = conversation !== undefined;
    this.#conversation = conversation ?? this.#ctx.conversations.create(`conv_${randomId()}`, agentId);
    this.#setupSummary = [
      `agent=${agentId}`,
      `conversation=${this.#conversation.id}${this.#resumed ? ' (resumed)' : ''}`,
      `out=${setup.outputFormat}@${setup.outputSampleRate}`,
      `in=${setup.inputEncoding}${setup.inputSampleRate ? `@${setup.inputSampleRate}` : ''}`,
      ...(this.#init.faults.faults.length ? [`faults=${describeFaults(this.#init.faults.faults)}`] : []),
    ].join(' ');

    this.#armFaults(this.#init.faults.faults);
    this.#sendJson({
      type: 'init',
      conversationId: this.#conversation.id,
      agentOwnerId: 'voicewire-local',
      language: 'en',
    });
    // Render the stock reply sentence now, so the first answer does not wait for the synthesiser.
    warmSpeech(REPLY_TEXT, setup.outputSampleRate);
    if (!this.#resumed) {
      const greeting = setup.customGreeting ?? this.#ctx.greeting;
      if (greeting.trim() !== '') this.#speakGreeting(greeting.trim());
    }
  }

  #onLiveMessage(text: string): void {
    const parsed = parseClientMessage(text);
    if (parsed.kind === 'invalid') {
      this.#sendError(4400, `Invalid parameters: ${parsed.error}`, false);
      return;
    }
    if (parsed.kind === 'unknown') {
      this.#sendError(4400, `Invalid parameters: unknown message type "${clip(parsed.type)}".`, false);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'audioIn':
        this.#onAudioIn(message.data);
        return;
      case 'customInput':
        this.#onCustomInput(message.data);
        return;
      case 'setup':
        this.#sendError(4400, 'Invalid parameters: this session is already set up.', false);
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Audio in and turn-taking

  #onAudioIn(data: string): void {
    if (data === '') {
      // A muted client keeps sending empty frames at its frame rate: count them as silence of
      // the last frame's length, so a turn ends when the user mutes mid-sentence.
      const vad = this.#vad;
      if (!vad) return;
      const count = this.#lastFrameSamples || Math.round(vad.sampleRate * 0.02);
      this.#lastAudioAt = performance.now();
      this.#capture.push({ start: vad.position, length: count, samples: null });
      vad.processSilence(count);
      this.#afterAudio();
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(data);
    } catch (error) {
      this.#sendError(
        4400,
        `Invalid parameters: audioIn.data is not valid base64 (${errorText(error)}).`,
        false,
      );
      return;
    }
    let decoded: { samples: Float32Array; sampleRate: number };
    try {
      decoded = this.#decoder!.decode(bytes);
    } catch (error) {
      this.#sendError(4400, `Invalid parameters: audioIn could not be decoded: ${errorText(error)}`, false);
      return;
    }
    if (decoded.samples.length === 0) return;
    let vad = this.#vad;
    if (!vad || vad.sampleRate !== decoded.sampleRate) {
      vad = this.#createVad(decoded.sampleRate);
    }
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
  }

  #createVad(sampleRate: number): VoiceActivityDetector {
    this.#vad?.forceEnd();
    this.#capture = [];
    const vad = createVoiceActivityDetector({
      sampleRate,
      silenceMs: this.#ctx.silenceMs,
      onSpeechStart: () => this.#onSpeechStart(),
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

  /** Watchdog while the user talks: a client that stops sending mid-turn still gets an end. */
  tick(now: number): void {
    const vad = this.#vad;
    if (!vad?.speaking || this.#state !== 'live') {
      this.#ctx.ticker.delete(this);
      return;
    }
    if (now - this.#lastAudioAt > this.#ctx.silenceMs + STALL_GRACE_MS) vad.forceEnd();
  }

  #onSpeechStart(): void {
    this.#sendJson({ type: 'voiceActivityStart' });
    this.#ctx.ticker.add(this);
    // Barge-in: whatever the agent is saying (or about to say) stops now.
    this.#generation++;
    this.#interruptResponse();
  }

  #onSpeechEnd(event: SpeechEndEvent, sampleRate: number): void {
    this.#ctx.ticker.delete(this);
    if (this.#state !== 'live') return;
    this.#sendJson({ type: 'voiceActivityEnd' });
    const description = `(${event.speechSeconds.toFixed(1)} s of speech)`;
    this.#sendJson({ type: 'onUserTranscript', message: description });
    this.#ctx.conversations.addTurn(this.#conversation!, {
      role: 'user',
      text: description,
      interrupted: false,
    });
    const from = Math.max(0, event.onsetSample - Math.round(PREROLL_S * sampleRate));
    const to = Math.min(
      event.lastSpeechSample + Math.round(POSTROLL_S * sampleRate),
      from + MAX_PLAYBACK_S * sampleRate,
    );
    const utterance = this.#takeUtterance(from, to);
    this.#reply(utterance, sampleRate);
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

  #reply(utterance: Float32Array, inputRate: number): void {
    const setup = this.#setup!;
    const generation = ++this.#generation;
    const outRate = setup.outputSampleRate;
    void (async () => {
      const sentence = await speechPcm(REPLY_TEXT, outRate);
      const echoed = inputRate === outRate ? utterance : resampleWhole(utterance, inputRate, outRate);
      const gap = Math.round(REPLY_GAP_S * outRate);
      const pcm = new Float32Array(sentence.length + gap + echoed.length);
      pcm.set(sentence, 0);
      pcm.set(echoed, sentence.length + gap);
      const source = await createEncodingSource(pcm, setup.outputFormat, outRate);
      return { source, speechMs: (sentence.length / outRate) * 1000 };
    })().then(
      ({ source, speechMs }) => {
        if (generation !== this.#generation || this.#state !== 'live') return;
        this.#startResponse('reply', REPLY_TEXT, source, speechMs);
      },
      (error) => this.#internalError('could not prepare the reply', error),
    );
  }

  #onCustomInput(data: string): void {
    const text = data.trim().slice(0, MAX_CUSTOM_INPUT_CHARS);
    if (text === '') return;
    this.#ctx.conversations.addTurn(this.#conversation!, { role: 'user', text, interrupted: false });
    const answer = `You wrote: ${text}`;
    const setup = this.#setup!;
    const generation = ++this.#generation;
    void (async () => {
      const pcm = await speechPcm(answer, setup.outputSampleRate);
      const source = await createEncodingSource(pcm, setup.outputFormat, setup.outputSampleRate);
      return { source, speechMs: (pcm.length / setup.outputSampleRate) * 1000 };
    })().then(
      ({ source, speechMs }) => {
        if (generation !== this.#generation || this.#state !== 'live') return;
        this.#interruptResponse();
        this.#startResponse('reply', answer, source, speechMs);
      },
      (error) => this.#internalError('could not answer customInput', error),
    );
  }

  // -------------------------------------------------------------------------------------------
  // The agent speaking

  #speakGreeting(text: string): void {
    const setup = this.#setup!;
    const generation = ++this.#generation;
    encodedSpeech(text, setup.outputFormat as OutputFormat, setup.outputSampleRate).then(
      (clip: EncodedClip) => {
        // The user spoke first (or left): the greeting is dropped, never talked over them.
        if (generation !== this.#generation || this.#state !== 'live') return;
        this.#startResponse('greeting', text, clipSource(clip), clip.durationMs);
      },
      (error) => this.#internalError('could not synthesise the greeting', error),
    );
  }

  #startResponse(kind: 'greeting' | 'reply', text: string, source: ChunkSource, speechMs: number): void {
    const turn = this.#ctx.conversations.addTurn(this.#conversation!, {
      role: 'agent',
      text,
      interrupted: false,
    });
    const response = new SpeechResponse(this, kind, text, source, speechMs, turn);
    this.#response = response;
    if (kind === 'greeting') this.#sendJson({ type: 'onAgentGreeting', message: text });
    else this.#sendJson({ type: 'onAgentTranscript', message: text });
    this.#sendJson({ type: 'newAudioStream' });
    this.#ctx.ticker.add(response);
    response.start(performance.now());
  }

  /** Called by the response when its audio has played out. */
  responseFinished(response: SpeechResponse): void {
    this.#ctx.ticker.delete(response);
    if (this.#response !== response) return;
    this.#response = undefined;
    if (response.kind === 'greeting') this.#sendJson({ type: 'onAgentGreetingEnd', message: response.text });
    this.#sendJson({
      type: 'audioStreamEnd',
      audioStreamEnd: { message: response.text, jobId: response.jobId },
    });
  }

  #interruptResponse(): void {
    const response = this.#response;
    if (!response) return;
    this.#ctx.ticker.delete(response);
    this.#response = undefined;
    const spoken = response.spokenText();
    response.turn.text = spoken;
    response.turn.interrupted = true;
    this.#sendJson({ type: 'onAgentInterrupted', updatedMessage: spoken });
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  #armFaults(faults: readonly Fault[]): void {
    for (const fault of faults) {
      switch (fault.kind) {
        case 'garbage':
          this.#garbage = true;
          break;
        case 'drop':
          this.#later(fault.afterMs, () => {
            this.#serverClose = { code: 1006, reason: `fault drop:${fault.afterMs} (connection cut)` };
            this.#ws.terminate();
          });
          break;
        case 'error':
          this.#later(fault.afterMs, () => {
            if (this.#state !== 'live') return;
            const info = describeErrorCode(fault.code);
            this.#sendJson({
              type: 'error',
              code: fault.code,
              message: `${info.message} (injected by fault=error:${fault.code}:${fault.afterMs})`,
            });
            this.#close(closeCodeForError(fault.code), `fault error:${fault.code}`);
          });
          break;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sending and closing

  /** Send a prepared `audioStream` frame (JSON text as bytes). */
  sendFrame(frame: Buffer): void {
    this.#sendText(frame);
  }

  #sendJson(message: Record<string, unknown>): void {
    this.#sendText(JSON.stringify(message));
  }

  #sendText(data: string | Buffer): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(data, TEXT_FRAME);
    // One malformed frame after the first message (init) and after every third one from then on.
    if (this.#garbage && this.#garbageCount++ % 3 === 0) {
      ws.send(GARBAGE_FRAMES[Math.floor(this.#garbageCount / 3) % GARBAGE_FRAMES.length]!, TEXT_FRAME);
    }
  }

  /**
   * An error that does not end the session (a bad frame, an undecodable chunk). `isFatal: false`
   * tells a client that honours it to carry on; the count is capped so that a client sending
   * garbage at 50 frames a second does not get 50 errors a second back.
   */
  #sendError(code: number, message: string, isFatal: boolean): void {
    if (++this.#errorsSent > 100 && this.#errorsSent % 50 !== 0) return;
    this.#sendJson({ type: 'error', code, message, isFatal });
  }

  #internalError(what: string, error: unknown): void {
    if (this.#state !== 'live') return;
    this.#ctx.log(`voicewire-agent: ${this.#init.remote} ${what}: ${errorText(error)}`);
    this.#sendError(4500, `Internal error: the local agent ${what}.`, false);
  }

  #failSetup(code: number, message: string, closeCode: number): void {
    this.#setupSummary = `setup refused ${code}`;
    // The seed's shape exactly: the error frame goes out before the close frame.
    this.#sendJson({ type: 'error', code, message });
    this.#close(closeCode, `setup refused (${code})`);
  }

  #close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#serverClose ??= { code, reason };
    this.#stopEverything();
    this.#state = 'closed';
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    // A peer that never answers the close frame is cut off rather than kept forever.
    const timer = setTimeout(() => ws.terminate(), 2_000);
    timer.unref();
  }

  #stopEverything(): void {
    this.#generation++;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#response) this.#ctx.ticker.delete(this.#response);
    this.#response = undefined;
    this.#ctx.ticker.delete(this);
    this.#ctx.liveSessions.delete(this);
    this.#capture = [];
  }

  #onClose(code: number, reason: string): void {
    this.#stopEverything();
    this.#state = 'closed';
    const seconds = ((Date.now() - this.#openedAt) / 1000).toFixed(1);
    const how = this.#serverClose
      ? `closed by agent ${this.#serverClose.code} "${this.#serverClose.reason}"`
      : this.#socketError
        ? `closed ${code} after a socket error: ${clip(this.#socketError)}`
        : `closed by client ${code}${reason ? ` "${clip(reason)}"` : ''}`;
    this.#ctx.log(
      `voicewire-agent: ${this.#init.remote} ${this.#init.path} · ${this.#setupSummary} · ${seconds} s · ${how}`,
    );
    this.onClosed?.();
  }

  /** Set by the agent to forget the session. */
  onClosed: (() => void) | undefined;

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }
}

/** The WebSocket close code that goes with a protocol error code. */
export function closeCodeForError(code: number): number {
  if (code === 4500) return 1011;
  if (code === 4429) return 1013;
  return 1008;
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

function randomId(): string {
  return randomBytes(9).toString('base64url');
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
