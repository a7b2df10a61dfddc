/**
 * A dialect is one vendor's wire protocol on the local agent. The agent's brain (session.ts: the
 * voice activity detector, the speech, the replies, barge-in, the greeting, hanging up, faults,
 * limits and logging) is one piece of code; a dialect only translates:
 *
 * - which paths it serves, which subprotocol it echoes, what plain HTTP it answers (minting
 *   browser-safe credentials);
 * - how a connection authenticates and opens (its handshake), calling {@link DialectHost.start};
 * - client frames (text or binary) into the brain's inputs: audio, text, turn controls;
 * - the brain's outputs ({@link DialectConnection}'s methods) into frames, text or binary.
 *
 * To add a protocol, write a {@link Dialect} beside dialects/playai, dialects/openai,
 * dialects/elevenlabs, dialects/gemini, dialects/deepgram and dialects/hume, and list it in
 * startLocalAgent.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentInputEncoding } from '../audio/index.ts';
import type { SessionContext, SessionInit, SessionQuery } from './context.ts';
import type { ConversationRecord } from './conversationStore.ts';
import type { CredentialCheck } from './credentials.ts';
import type { SpeechResponse } from './response.ts';
import type { AudioChunk, SpeechOutput } from './speech.ts';

export interface Dialect {
  /** For the log and errors: `playai`, `openai`, `elevenlabs`, `gemini`, `deepgram`, `hume`. */
  readonly name: string;
  /** Whether a WebSocket to `pathname` is for this dialect; the agent id its path names, if any. */
  matches(pathname: string): { agentId?: string } | undefined;
  /**
   * The subprotocol to echo from those the client offered: browsers and `ws` fail the handshake
   * when a client offers some and the server picks none. Never one that carries a credential.
   */
  selectProtocol(offered: readonly string[]): string | undefined;
  /**
   * One connection's side of the protocol. Nothing may be sent or started from here: the
   * connection's work begins in {@link DialectConnection.opened}.
   */
  connect(host: DialectHost): DialectConnection;
  /**
   * Plain HTTP for this dialect (minting a browser-safe credential, a 426 for a GET to its
   * socket path). Returns `false` when the request is not its.
   */
  handleHttp?(request: IncomingMessage, response: ServerResponse, agent: HttpContext): boolean;
}

/** What a dialect's HTTP handler may use. */
export interface HttpContext {
  readonly ctx: SessionContext;
  /** `ws://HOST:PORT`, for URLs handed out (signed URLs). */
  readonly origin: string;
  /** The CORS and cache headers every answer carries. */
  readonly headers: Record<string, string>;
}

/** How the user's turns are taken. Dialects set it at start and may change it (OpenAI's `turn_detection`). */
export interface TurnPolicy {
  /** The agent's detector ends the user's turns; `false`: the client commits them (push-to-talk). */
  detectTurns: boolean;
  /** A turn that ends is answered at once; `false`: only when the client asks (`requestResponse`). */
  respond: boolean;
  /** Speech while the agent talks stops it; `false`: only `cancelResponse` does. */
  interrupt: boolean;
  /** Silence that ends a turn, in ms. */
  silenceMs: number;
}

/** What a dialect gives the brain when its handshake has succeeded. */
export interface ConversationStart {
  agentId: string;
  /** A conversation to continue (PlayAI's `continueConversation`); otherwise a new one. */
  resumed?: ConversationRecord;
  /** The conversation id to use for a new one; otherwise `conv_…`. */
  conversationId?: string;
  input: { encoding: AgentInputEncoding; sampleRate?: number };
  output: SpeechOutput;
  policy?: Partial<TurnPolicy>;
  query: SessionQuery;
  /** For the log line, after the dialect's name (never a credential). */
  summary: string;
}

/** What the brain offers a dialect: the connection's state, its inputs and the socket. */
export interface DialectHost {
  readonly ctx: SessionContext;
  readonly init: SessionInit;

  // Handshake
  /** Check a credential (`undefined`: none presented) against the agent's keys and minted tokens. */
  checkCredential(credential: string | undefined): CredentialCheck;
  /** `maxConnections` conversations are live: a new one must be refused. */
  atCapacity(): boolean;
  /** The conversation begins: faults are armed and audio is listened to. Returns its id. */
  start(start: ConversationStart): string;
  /** Between `start` and the end of the call. */
  readonly live: boolean;
  /** Whether the agent has started (or dropped) its greeting. */
  readonly greeted: boolean;
  /** Speak the greeting now (`''`: none; the greeting phase ends at once). */
  speakGreeting(text: string): void;

  // Inputs
  /** One chunk of the user's audio in the input encoding; returns what is wrong with it. */
  audioIn(bytes: Uint8Array): string | undefined;
  /** One frame of silence (a muted client's empty frame). */
  silenceIn(): void;
  /** Decode the input as this from now on; returns what is wrong with it. */
  setInput(encoding: AgentInputEncoding, sampleRate?: number): string | undefined;
  /** Speak with this from the next response on. */
  setOutput(output: SpeechOutput): void;
  setTurnPolicy(policy: Partial<TurnPolicy>): void;
  /** The user's turn is over (push-to-talk); returns the problem when there is nothing to commit. */
  commitInput(): string | undefined;
  /** Forget the input audio not yet part of a turn. */
  clearInput(): void;
  /**
   * Answer now: the pending user turn, or the greeting if it has not been spoken, or a short
   * prompt. `active` when a response is already being prepared or spoken.
   */
  requestResponse(): 'started' | 'active' | 'ended';
  /** Stop the response being spoken (or prepared); `false` when there is none. */
  cancelResponse(): boolean;
  /** The user heard only the first `audioEndMs` of `response`: its stored text is cut to that. */
  heard(response: SpeechResponse, audioEndMs: number): void;
  /** Text from the user; answered at once when `respond`, otherwise on `requestResponse`. */
  textInput(text: string, respond: boolean): void;
  /**
   * The agent says `text` (Deepgram's `InjectAgentMessage`, Hume's `assistant_input`): `busy`
   * while a response is prepared or spoken, unless `interrupt`, which replaces it.
   */
  say(text: string, interrupt: boolean): 'started' | 'busy' | 'ended';

  // The wire
  sendText(frame: string | Buffer): void;
  sendBinary(bytes: Uint8Array): void;
  /** Whether one more error frame may go out (a client sending garbage does not get a flood back). */
  allowError(): boolean;
  /** Run `fn` in `ms` unless the session has ended; returns a cancel. */
  later(ms: number, fn: () => void): () => void;
  /** End the call from the agent's side with a close frame. */
  close(code: number, reason: string): void;
  /** What the log line says instead of the conversation summary (a refused handshake). */
  setSummary(summary: string): void;
  /** Log a client message type the dialect does not know, once per type and call. */
  logUnknownType(type: string): void;
  /** Report a failure of the agent's own (logged, then reported to the client as an error). */
  internalError(what: string, error: unknown): void;
  log(line: string): void;
}

/** The kinds of error the brain reports, each dialect saying it its own way. */
export type AgentErrorKind =
  /** A frame the agent could not use (bad audio, a bad value); the call goes on. */
  | 'invalid'
  /** The agent failed (synthesis); the call goes on. */
  | 'internal';

/** One connection of a dialect: what it receives, and the brain's outputs it must put on the wire. */
export interface DialectConnection {
  /** The socket is open and listened to: send the first frames, start timers. */
  opened?(): void;
  receiveText(text: string): void;
  receiveBinary(bytes: Buffer): void;
  /** The user started speaking (sent before any interruption it causes). */
  speechStarted(audioStartMs: number): void;
  /** The user's audio turn is over; `description` stands in for a transcript ("(1.2 s of speech)"). */
  userTurn(turn: { description: string; audioEndMs: number; detected: boolean; speechSeconds: number }): void;
  /** The agent starts speaking `response` (its text is known, its audio follows). */
  responseStarted(response: SpeechResponse): void;
  audio(response: SpeechResponse, chunk: AudioChunk): void;
  /** `response` has played out. */
  responseDone(response: SpeechResponse): void;
  /** `response` was stopped: by the user's speech, or by the client (`cancelResponse`). */
  responseInterrupted(response: SpeechResponse, cause: 'speech' | 'client'): void;
  /** The greeting phase is over (spoken, interrupted, dropped, or none): once per call. */
  greetingEnded(text: string): void;
  /**
   * The agent hangs up after its goodbye: the last frames before the 1000 close. Returns how long
   * to give the client to close first (ElevenLabs' SDK shuts its microphone and closes when told
   * the call ended); 0 closes at once.
   */
  hangingUp(): number;
  error(kind: AgentErrorKind, message: string): void;
  /** `?fault=error:CODE:MS`: say error `code` (talk-protocol numbering) as the call fails. */
  faultError(code: number, message: string): void;
  /** The malformed frames `?fault=garbage` interleaves. */
  readonly garbage: readonly string[];
  /** Counters and state for the log line (`pongs=12`). */
  describe?(): string;
  /** The connection has closed; release what the dialect holds. */
  closed?(): void;
}
