/**
 * One connection to the local agent, from the socket opening to its close: the setup handshake
 * (setup.ts), the greeting, the user's turns (listener.ts) and the agent's responses
 * (response.ts), barge-in, hanging up, and the faults a client asked for in the URL. The
 * messages and their shapes are those of docs/protocol.md.
 */
import { randomBytes } from 'node:crypto';
import {
  parseClientMessage,
  type ResolvedSetup,
  SDK_CLIENT_MESSAGE_TYPES,
} from '@voicewire/core/playai/protocol';
import type WebSocket from 'ws';
import type { SessionContext, SessionInit } from './context.ts';
import type { ConversationRecord } from './conversationStore.ts';
import { armFaults, describeFaults } from './faults.ts';
import { TurnListener, type UserTurn } from './listener.ts';
import {
  GOODBYE_TEXT,
  type PreparedSpeech,
  prepareReply,
  prepareText,
  REPLY_TEXT,
  type ResponseKind,
  type ResponseOutput,
  SpeechResponse,
} from './response.ts';
import { acceptSetup, clip } from './setup.ts';
import { SessionSocket } from './socket.ts';
import { clipSource, encodedSpeech, warmSpeech } from './speech.ts';

/** Without a setup in this long, the connection is not a client of ours. */
const SETUP_TIMEOUT_MS = 15_000;
/** Longest `customInput` text spoken back. */
const MAX_CUSTOM_INPUT_CHARS = 300;
/** Distinct unknown message types logged per session: enough to notice, never a flood. */
const MAX_LOGGED_UNKNOWN_TYPES = 8;

/** The SDK's bookkeeping messages: accepted quietly, never answered, never stored. */
const QUIET_CLIENT_TYPES: ReadonlySet<string> = new Set(SDK_CLIENT_MESSAGE_TYPES);

/** `ending`: the goodbye is being spoken; nothing the user says starts another turn. */
type SessionState = 'awaiting-setup' | 'live' | 'ending' | 'closed';

export class AgentSession implements ResponseOutput {
  readonly #ws: WebSocket;
  readonly #socket: SessionSocket;
  readonly #ctx: SessionContext;
  readonly #init: SessionInit;
  readonly #openedAt = Date.now();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #state: SessionState = 'awaiting-setup';
  #setup: ResolvedSetup | undefined;
  #conversation: ConversationRecord | undefined;
  #listener: TurnListener | undefined;
  #response: SpeechResponse | undefined;
  /** Bumped whenever a response in preparation must be abandoned (barge-in, close). */
  #generation = 0;
  #greetingEnded = false;
  #repliesCompleted = 0;
  #hangupAfterTurns: number | undefined;
  #unknownTypes = new Set<string>();
  #setupSummary = 'no setup';

  constructor(ws: WebSocket, ctx: SessionContext, init: SessionInit) {
    this.#ws = ws;
    this.#socket = new SessionSocket(ws);
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
    const accepted = acceptSetup(text, this.#ctx, this.#init);
    if (!accepted.ok) {
      this.#failSetup(accepted.code, accepted.message, accepted.closeCode);
      return;
    }
    const { setup, query, resumed } = accepted;
    const agentId = this.#init.agentId ?? '';
    this.#state = 'live';
    this.#setup = setup;
    this.#ctx.liveSessions.add(this);
    this.#conversation = resumed ?? this.#ctx.conversations.create(`conv_${randomId()}`, agentId);
    this.#hangupAfterTurns = query.hangupAfterTurns ?? this.#ctx.hangupAfterTurns;
    this.#listener = new TurnListener(accepted.decoder, this.#ctx.ticker, this.#ctx.silenceMs, {
      onSpeechStart: () => this.#onSpeechStart(),
      onTurnEnd: (turn) => this.#onTurnEnd(turn),
    });
    this.#setupSummary = [
      `agent=${agentId}`,
      `conversation=${this.#conversation.id}${resumed ? ' (resumed)' : ''}`,
      `out=${setup.outputFormat}@${setup.outputSampleRate}`,
      `in=${setup.inputEncoding}${setup.inputSampleRate ? `@${setup.inputSampleRate}` : ''}`,
      ...(setup.apiKey === undefined || setup.apiKey.trim() === '' ? ['anonymous'] : []),
      ...(query.faults.length ? [`faults=${describeFaults(query.faults)}`] : []),
      ...(this.#hangupAfterTurns !== undefined ? [`hangupAfterTurns=${this.#hangupAfterTurns}`] : []),
    ].join(' ');

    armFaults(query.faults, {
      socket: this.#socket,
      later: (ms, fn) => this.#later(ms, fn),
      isLive: () => this.#state === 'live',
      close: (code, reason) => this.#close(code, reason),
    });
    this.#sendJson({
      type: 'init',
      conversationId: this.#conversation.id,
      agentOwnerId: 'voicewire-local',
      language: 'en',
    });
    // Render the stock sentences now, so the first answer does not wait for the synthesiser.
    warmSpeech(REPLY_TEXT, setup.outputSampleRate);
    if (this.#hangupAfterTurns !== undefined) warmSpeech(GOODBYE_TEXT, setup.outputSampleRate);
    const greeting = resumed ? '' : (setup.customGreeting ?? this.#ctx.greeting).trim();
    // Clients that open their microphone on onAgentGreetingEnd (PlayAI's SDK does) need it even
    // when there is no greeting: it then comes at once, with an empty message.
    if (greeting === '') this.#endGreeting('');
    else this.#speakGreeting(greeting);
  }

  #onLiveMessage(text: string): void {
    const parsed = parseClientMessage(text);
    if (parsed.kind === 'invalid') {
      this.#sendError(4400, `Invalid parameters: ${parsed.error}`, false);
      return;
    }
    if (parsed.kind === 'unknown') {
      // The SDK's bookkeeping is accepted quietly and dropped (nothing of a call is recorded);
      // other types are ignored with one log line, as a tolerant server does.
      if (QUIET_CLIENT_TYPES.has(parsed.type)) return;
      if (!this.#unknownTypes.has(parsed.type) && this.#unknownTypes.size < MAX_LOGGED_UNKNOWN_TYPES) {
        this.#unknownTypes.add(parsed.type);
        this.#ctx.log(
          `voicewire-agent: ${this.#init.remote} ignored a message of unknown type "${clip(parsed.type)}"`,
        );
      }
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'audioIn': {
        if (this.#state !== 'live') return;
        const problem = this.#listener!.audioIn(message.data);
        if (problem !== undefined) this.#sendError(4400, `Invalid parameters: ${problem}`, false);
        return;
      }
      case 'customInput':
        if (this.#state === 'live') this.#onCustomInput(message.data);
        return;
      case 'setup':
        this.#sendError(4400, 'Invalid parameters: this session is already set up.', false);
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Turn-taking

  #onSpeechStart(): void {
    if (this.#state !== 'live') return;
    this.#sendJson({ type: 'voiceActivityStart' });
    // Barge-in: whatever the agent is saying (or about to say) stops now.
    this.#generation++;
    this.#interruptResponse();
  }

  #onTurnEnd(turn: UserTurn): void {
    if (this.#state !== 'live') return;
    this.#sendJson({ type: 'voiceActivityEnd' });
    const description = `(${turn.speechSeconds.toFixed(1)} s of speech)`;
    this.#sendJson({ type: 'onUserTranscript', message: description });
    this.#ctx.conversations.addTurn(this.#conversation!, {
      role: 'user',
      text: description,
      interrupted: false,
    });
    const setup = this.#setup!;
    this.#prepare(
      'reply',
      REPLY_TEXT,
      prepareReply(turn.utterance, turn.sampleRate, setup.outputFormat, setup.outputSampleRate),
      'could not prepare the reply',
    );
  }

  #onCustomInput(data: string): void {
    const text = data.trim().slice(0, MAX_CUSTOM_INPUT_CHARS);
    if (text === '') return;
    this.#ctx.conversations.addTurn(this.#conversation!, { role: 'user', text, interrupted: false });
    const answer = `You wrote: ${text}`;
    const setup = this.#setup!;
    this.#prepare(
      'reply',
      answer,
      prepareText(answer, setup.outputFormat, setup.outputSampleRate),
      'could not answer customInput',
    );
  }

  /** Speak `text` once its audio is ready, unless the user spoke (or left) in the meantime. */
  #prepare(kind: ResponseKind, text: string, speech: Promise<PreparedSpeech>, failure: string): void {
    const generation = ++this.#generation;
    speech.then(
      ({ source, speechMs }) => {
        if (generation !== this.#generation || this.#state === 'closed') return;
        if (kind !== 'goodbye' && this.#state !== 'live') return;
        this.#interruptResponse();
        this.#startResponse(kind, text, source, speechMs);
      },
      (error) => {
        this.#internalError(failure, error);
        if (kind === 'goodbye') this.#hangUp();
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // The agent speaking

  #speakGreeting(text: string): void {
    const setup = this.#setup!;
    const generation = ++this.#generation;
    encodedSpeech(text, setup.outputFormat, setup.outputSampleRate).then(
      (clip) => {
        // The user spoke first (or left): the greeting is dropped, never talked over them.
        if (generation !== this.#generation || this.#state !== 'live') {
          this.#endGreeting('');
          return;
        }
        this.#startResponse('greeting', text, clipSource(clip), clip.durationMs);
      },
      (error) => {
        this.#internalError('could not synthesise the greeting', error);
        this.#endGreeting('');
      },
    );
  }

  #startResponse(kind: ResponseKind, text: string, source: PreparedSpeech['source'], speechMs: number): void {
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
    if (response.kind === 'greeting') this.#endGreeting(response.text);
    // Top-level message and a numeric jobId, as the deployed service sends it; the nested object
    // is the older form, kept for clients that read it (docs/protocol.md, "Server → client").
    this.#sendJson({
      type: 'audioStreamEnd',
      message: response.text,
      jobId: response.jobId,
      audioStreamEnd: { message: response.text, jobId: response.jobId },
    });
    if (response.kind === 'goodbye') {
      this.#hangUp();
      return;
    }
    if (response.kind === 'reply' && this.#hangupAfterTurns !== undefined) {
      if (++this.#repliesCompleted >= this.#hangupAfterTurns) this.#sayGoodbye();
    }
  }

  /** `onAgentGreetingEnd`, exactly once per call. */
  #endGreeting(text: string): void {
    if (this.#greetingEnded || this.#state === 'closed') return;
    this.#greetingEnded = true;
    this.#sendJson({ type: 'onAgentGreetingEnd', message: text });
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
    if (response.kind === 'greeting') this.#endGreeting(spoken);
  }

  // -------------------------------------------------------------------------------------------
  // Hanging up

  /** The last reply has played: say goodbye, then hang up. The user can no longer take a turn. */
  #sayGoodbye(): void {
    this.#state = 'ending';
    this.#listener?.stop();
    const setup = this.#setup!;
    this.#prepare(
      'goodbye',
      GOODBYE_TEXT,
      prepareText(GOODBYE_TEXT, setup.outputFormat, setup.outputSampleRate),
      'could not synthesise the goodbye',
    );
  }

  #hangUp(): void {
    if (this.#state === 'closed') return;
    this.#sendJson({ type: 'hangup', endedBy: 'agent' });
    this.#close(1000, 'agent hung up');
  }

  // -------------------------------------------------------------------------------------------
  // Sending and closing

  /** Send a prepared `audioStream` frame (JSON text as bytes). */
  sendFrame(frame: Buffer): void {
    this.#socket.sendText(frame);
  }

  #sendJson(message: Record<string, unknown>): void {
    this.#socket.sendJson(message);
  }

  /** An error that does not end the session (a bad frame, an undecodable chunk). */
  #sendError(code: number, message: string, isFatal: boolean): void {
    this.#socket.sendError(code, message, isFatal);
  }

  #internalError(what: string, error: unknown): void {
    if (this.#state === 'awaiting-setup' || this.#state === 'closed') return;
    this.#ctx.log(`voicewire-agent: ${this.#init.remote} ${what}: ${errorText(error)}`);
    this.#sendError(4500, `Internal error: the local agent ${what}.`, false);
  }

  #failSetup(code: number, message: string, closeCode: number): void {
    this.#setupSummary = `setup refused ${code}`;
    // The error frame goes out before the close frame; `isFatal` because the call is over
    // (clients that validate the shape, like PlayAI's SDK, drop an error without it).
    this.#socket.sendError(code, message, true);
    this.#close(closeCode, `setup refused (${code})`);
  }

  #close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#stopEverything();
    this.#state = 'closed';
    this.#socket.close(code, reason);
  }

  #stopEverything(): void {
    this.#generation++;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#response) this.#ctx.ticker.delete(this.#response);
    this.#response = undefined;
    this.#listener?.stop();
    this.#ctx.liveSessions.delete(this);
  }

  #onClose(code: number, reason: string): void {
    this.#stopEverything();
    this.#state = 'closed';
    const seconds = ((Date.now() - this.#openedAt) / 1000).toFixed(1);
    const how = this.#socket.describeClose(code, reason);
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

function randomId(): string {
  return randomBytes(9).toString('base64url');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
