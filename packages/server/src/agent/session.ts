/**
 * One connection to the local agent, from the socket opening to its close: the agent's brain,
 * whatever protocol the client speaks. It owns the conversation's state: the user's turns
 * (listener.ts), what the agent says (voice.ts: the greeting, responses, barge-in), hanging up,
 * the faults a client asked for in the URL, the connection limit and the log line. What goes
 * over the wire, and how the connection authenticates and opens, is the dialect's (dialect.ts).
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { type AgentInputEncoding, createInputDecoder } from '../audio/index.ts';
import type { SessionContext, SessionInit } from './context.ts';
import type { ConversationRecord } from './conversationStore.ts';
import type { CredentialCheck } from './credentials.ts';
import type { ConversationStart, Dialect, DialectConnection, DialectHost, TurnPolicy } from './dialect.ts';
import { armFaults, describeFaults } from './faults.ts';
import { TurnListener, type UserTurn } from './listener.ts';
import {
  GOODBYE_TEXT,
  PROMPT_TEXT,
  prepareReply,
  prepareText,
  REPLY_TEXT,
  type SpeechResponse,
} from './response.ts';
import { SessionSocket } from './socket.ts';
import { type SpeechOutput, warmSpeech } from './speech.ts';
import { AgentVoice } from './voice.ts';

/** Longest text input answered (spoken back). */
const MAX_TEXT_INPUT_CHARS = 300;
/** Distinct unknown message types logged per session: enough to notice, never a flood. */
const MAX_LOGGED_UNKNOWN_TYPES = 8;

/**
 * `opening`: the dialect's handshake is under way; `ending`: the goodbye is being spoken, and
 * nothing the user says starts another turn.
 */
type SessionState = 'opening' | 'live' | 'ending' | 'closed';

/** A user turn waiting for the client to ask for its answer (`respond: false`, push-to-talk). */
type PendingTurn = { kind: 'audio'; turn: UserTurn } | { kind: 'text'; text: string };

export class AgentSession implements DialectHost {
  readonly ctx: SessionContext;
  readonly init: SessionInit;
  readonly #ws: WebSocket;
  readonly #socket: SessionSocket;
  readonly #conn: DialectConnection;
  readonly #openedAt = Date.now();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #state: SessionState = 'opening';
  #conversation: ConversationRecord | undefined;
  #listener: TurnListener | undefined;
  #output: SpeechOutput = { format: 'pcm16', sampleRate: 24_000 };
  #policy: TurnPolicy;
  #voice: AgentVoice | undefined;
  #pending: PendingTurn | undefined;
  #repliesCompleted = 0;
  #hangupAfterTurns: number | undefined;
  #unknownTypes = new Set<string>();
  #summary = 'no handshake';

  constructor(ws: WebSocket, ctx: SessionContext, init: SessionInit, dialect: Dialect) {
    this.#ws = ws;
    this.#socket = new SessionSocket(ws);
    this.ctx = ctx;
    this.init = init;
    this.#policy = { detectTurns: true, respond: true, interrupt: true, silenceMs: ctx.silenceMs };
    this.#summary = `${dialect.name}: no handshake`;
    this.#conn = dialect.connect(this);
    ws.on('message', (data, isBinary) => {
      if (this.#state === 'closed') return;
      try {
        const bytes = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        // ws hands text frames over as a Buffer (its default binaryType): decode without copying.
        if (isBinary) this.#conn.receiveBinary(bytes);
        else this.#conn.receiveText(bytes.toString('utf8'));
      } catch (error) {
        // A bug of ours must cost one message, never the process and every other session.
        if (this.#state === 'opening') {
          this.ctx.log(`voicewire-agent: ${this.init.remote} handshake failed: ${errorText(error)}`);
          this.#summary = `${dialect.name}: handshake failed`;
          this.#conn.faultError(4500, 'Internal error: the local agent failed on the opening message.');
          this.close(1011, 'internal error');
        } else this.internalError('failed on a message', error);
      }
    });
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    try {
      this.#conn.opened?.();
    } catch (error) {
      this.ctx.log(`voicewire-agent: ${this.init.remote} handshake failed: ${errorText(error)}`);
      this.#summary = `${dialect.name}: handshake failed`;
      this.close(1011, 'internal error');
    }
  }

  get conversationId(): string | undefined {
    return this.#conversation?.id;
  }

  /** Close from the server's side (the agent is shutting down). */
  shutdown(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  // -------------------------------------------------------------------------------------------
  // The handshake (DialectHost)

  checkCredential(credential: string | undefined): CredentialCheck {
    return this.ctx.credentials.check(credential);
  }

  atCapacity(): boolean {
    return this.ctx.liveSessions.size >= this.ctx.maxConnections;
  }

  get live(): boolean {
    return this.#state === 'live' || this.#state === 'ending';
  }

  get greeted(): boolean {
    return this.#voice?.greeted ?? false;
  }

  start(start: ConversationStart): string {
    if (this.#state !== 'opening') throw new Error('the conversation has already started');
    const decoder = createInputDecoder(start.input.encoding, start.input.sampleRate);
    this.#state = 'live';
    this.ctx.liveSessions.add(this);
    const resumed = start.resumed;
    const conversation =
      resumed ?? this.ctx.conversations.create(start.conversationId ?? `conv_${randomId()}`, start.agentId);
    this.#conversation = conversation;
    this.#hangupAfterTurns = start.query.hangupAfterTurns ?? this.ctx.hangupAfterTurns;
    this.#output = start.output;
    this.#policy = { ...this.#policy, ...start.policy };
    const listener = new TurnListener(decoder, this.ctx.ticker, this.#policy.silenceMs, {
      onSpeechStart: (audioStartMs) => this.#onSpeechStart(audioStartMs),
      onTurnEnd: (turn) => this.#onTurnEnd(turn),
    });
    listener.setDetectTurns(this.#policy.detectTurns);
    this.#listener = listener;
    const conn = this.#conn;
    this.#voice = new AgentVoice({
      ctx: this.ctx,
      conn,
      conversation,
      output: () => this.#output,
      canSpeak: (kind) => this.#state === 'live' || (kind === 'goodbye' && this.#state === 'ending'),
      internalError: (what, error) => this.internalError(what, error),
      replyPlayed: () => {
        if (this.#hangupAfterTurns !== undefined && ++this.#repliesCompleted >= this.#hangupAfterTurns) {
          this.#sayGoodbye();
        }
      },
      goodbyeDone: () => this.#hangUp(),
    });
    const faults = start.query.faults;
    this.#summary = [
      `agent=${start.agentId}`,
      `conversation=${conversation.id}${resumed ? ' (resumed)' : ''}`,
      start.summary,
      ...(faults.length ? [`faults=${describeFaults(faults)}`] : []),
      ...(this.#hangupAfterTurns !== undefined ? [`hangupAfterTurns=${this.#hangupAfterTurns}`] : []),
    ]
      .filter((part) => part !== '')
      .join(' ');
    armFaults(faults, {
      injectGarbage: () => this.#socket.injectGarbage(this.#conn.garbage),
      cut: (reason) => this.#socket.cut(reason),
      sendError: (code, message) => this.#conn.faultError(code, message),
      later: (ms, fn) => this.later(ms, fn),
      isLive: () => this.#state === 'live',
      close: (code, reason) => this.close(code, reason),
    });
    // Render the stock sentences now, so the first answer does not wait for the synthesiser.
    this.#warm();
    return conversation.id;
  }

  speakGreeting(text: string): void {
    if (this.live) this.#voice!.speakGreeting(text);
  }

  // -------------------------------------------------------------------------------------------
  // Inputs (DialectHost)

  audioIn(bytes: Uint8Array): string | undefined {
    if (this.#state !== 'live') return undefined;
    return this.#listener!.audioIn(bytes);
  }

  silenceIn(): void {
    if (this.#state === 'live') this.#listener!.silenceIn();
  }

  setInput(encoding: AgentInputEncoding, sampleRate?: number): string | undefined {
    try {
      const decoder = createInputDecoder(encoding, sampleRate);
      this.#listener?.setDecoder(decoder);
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  }

  setOutput(output: SpeechOutput): void {
    this.#output = output;
    if (this.live) this.#warm();
  }

  setTurnPolicy(policy: Partial<TurnPolicy>): void {
    this.#policy = { ...this.#policy, ...policy };
    this.#listener?.setDetectTurns(this.#policy.detectTurns);
    this.#listener?.setSilenceMs(this.#policy.silenceMs);
  }

  commitInput(): string | undefined {
    if (this.#state !== 'live') return undefined;
    return this.#listener!.commit();
  }

  clearInput(): void {
    this.#listener?.clear();
    if (this.#pending?.kind === 'audio') this.#pending = undefined;
  }

  requestResponse(): 'started' | 'active' | 'ended' {
    if (this.#state !== 'live') return 'ended';
    const voice = this.#voice!;
    if (voice.busy) return 'active';
    const pending = this.#pending;
    this.#pending = undefined;
    const greeting = this.ctx.greeting.trim();
    if (pending) this.#answer(pending);
    else if (!voice.greeted && greeting !== '') voice.speakGreeting(greeting);
    else
      voice.say(
        'prompt',
        PROMPT_TEXT,
        prepareText(PROMPT_TEXT, this.#output),
        'could not prepare a response',
      );
    return 'started';
  }

  cancelResponse(): boolean {
    return this.#voice?.cancel() ?? false;
  }

  heard(response: SpeechResponse, audioEndMs: number): void {
    const heard = response.heardText(audioEndMs);
    response.turn.text = heard;
    if (heard !== response.text || audioEndMs < response.durationMs) response.turn.interrupted = true;
  }

  textInput(text: string, respond: boolean): void {
    if (this.#state !== 'live') return;
    const clipped = text.trim().slice(0, MAX_TEXT_INPUT_CHARS);
    if (clipped === '') return;
    this.ctx.conversations.addTurn(this.#conversation!, { role: 'user', text: clipped, interrupted: false });
    if (respond) this.#answer({ kind: 'text', text: clipped });
    else this.#pending = { kind: 'text', text: clipped };
  }

  say(text: string, interrupt: boolean): 'started' | 'busy' | 'ended' {
    if (this.#state !== 'live') return 'ended';
    const voice = this.#voice!;
    if (voice.busy && !interrupt) return 'busy';
    const clipped = text.trim().slice(0, MAX_TEXT_INPUT_CHARS);
    if (clipped === '') return 'ended';
    voice.say('prompt', clipped, prepareText(clipped, this.#output), 'could not say the injected text');
    return 'started';
  }

  // -------------------------------------------------------------------------------------------
  // Turn-taking

  #onSpeechStart(audioStartMs: number): void {
    if (this.#state !== 'live') return;
    this.#conn.speechStarted(audioStartMs);
    if (this.#policy.interrupt) this.#voice!.bargeIn();
  }

  #onTurnEnd(turn: UserTurn): void {
    if (this.#state !== 'live') return;
    const description = `(${turn.speechSeconds.toFixed(1)} s of speech)`;
    this.#conn.userTurn({
      description,
      audioEndMs: turn.audioEndMs,
      detected: turn.detected,
      speechSeconds: turn.speechSeconds,
    });
    this.ctx.conversations.addTurn(this.#conversation!, {
      role: 'user',
      text: description,
      interrupted: false,
    });
    if (this.#policy.respond && turn.detected) this.#answer({ kind: 'audio', turn });
    else this.#pending = { kind: 'audio', turn };
  }

  #answer(pending: PendingTurn): void {
    if (pending.kind === 'audio') {
      const { utterance, sampleRate } = pending.turn;
      this.#voice!.say(
        'reply',
        REPLY_TEXT,
        prepareReply(utterance, sampleRate, this.#output),
        'could not prepare the reply',
      );
      return;
    }
    const answer = `You wrote: ${pending.text}`;
    this.#voice!.say('reply', answer, prepareText(answer, this.#output), 'could not answer the text input');
  }

  // -------------------------------------------------------------------------------------------
  // Hanging up

  /** The last reply has played: say goodbye, then hang up. The user can no longer take a turn. */
  #sayGoodbye(): void {
    this.#state = 'ending';
    this.#listener?.stop();
    this.#voice!.say(
      'goodbye',
      GOODBYE_TEXT,
      prepareText(GOODBYE_TEXT, this.#output),
      'could not synthesise the goodbye',
    );
  }

  #hangUp(): void {
    if (this.#state === 'closed') return;
    const graceMs = this.#conn.hangingUp();
    if (graceMs > 0) this.later(graceMs, () => this.close(1000, 'agent hung up'));
    else this.close(1000, 'agent hung up');
  }

  #warm(): void {
    const { sampleRate, voice } = this.#output;
    warmSpeech(REPLY_TEXT, sampleRate, voice);
    if (this.#hangupAfterTurns !== undefined) warmSpeech(GOODBYE_TEXT, sampleRate, voice);
  }

  // -------------------------------------------------------------------------------------------
  // The wire (DialectHost)

  sendText(frame: string | Buffer): void {
    this.#socket.sendText(frame);
  }

  sendBinary(bytes: Uint8Array): void {
    this.#socket.sendBinary(bytes);
  }

  allowError(): boolean {
    return this.#socket.allowError();
  }

  setSummary(summary: string): void {
    this.#summary = summary;
  }

  log(line: string): void {
    this.ctx.log(line);
  }

  logUnknownType(type: string): void {
    if (this.#unknownTypes.has(type) || this.#unknownTypes.size >= MAX_LOGGED_UNKNOWN_TYPES) return;
    this.#unknownTypes.add(type);
    this.ctx.log(`voicewire-agent: ${this.init.remote} ignored a message of unknown type "${clip(type)}"`);
  }

  internalError(what: string, error: unknown): void {
    if (this.#state === 'opening' || this.#state === 'closed') return;
    this.ctx.log(`voicewire-agent: ${this.init.remote} ${what}: ${errorText(error)}`);
    this.#conn.error('internal', `Internal error: the local agent ${what}.`);
  }

  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#stopEverything();
    this.#state = 'closed';
    this.#socket.close(code, reason);
  }

  later(ms: number, fn: () => void): () => void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  #stopEverything(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#voice?.stop();
    this.#listener?.stop();
    this.ctx.liveSessions.delete(this);
  }

  #onClose(code: number, reason: string): void {
    this.#stopEverything();
    this.#state = 'closed';
    this.#conn.closed?.();
    const seconds = ((Date.now() - this.#openedAt) / 1000).toFixed(1);
    const how = this.#socket.describeClose(code, reason);
    const extra = this.#conn.describe?.();
    this.ctx.log(
      `voicewire-agent: ${this.init.remote} ${this.init.path} · ${this.#summary} · ${seconds} s · ${how}${extra ? ` · ${extra}` : ''}`,
    );
    this.onClosed?.();
  }

  /** Set by the agent to forget the session. */
  onClosed: (() => void) | undefined;
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
