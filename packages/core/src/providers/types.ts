import type { VoicewireErrorKind } from '../errors.ts';

/*
 * The provider seam: the only place that knows a wire protocol. A conversation (createConversation)
 * drives a `Provider` it is given (`playai()`, `openaiRealtime()`, `elevenlabs()`…, each its own
 * entry point, so a page bundles only the one it imports) and never names a vendor's message.
 *
 *   Provider          the factory's result: checked options, the formats, `start()` per call
 *   ProviderSession   one call (a conversation's `start()` to its end): what survives a
 *                     reconnect (the conversation id to resume) and the socket of each attempt
 *   ProviderSocket    one WebSocket of a session: its URL and subprotocols, the opening frames,
 *                     server frames decoded into neutral events, and the frames to send for the
 *                     microphone, text, a barge-in, push-to-talk, keepalive and what a close means
 *
 * Everything here is plain data and functions: no socket, no timer, no audio. A provider
 * never throws from `decode`; whatever the server sends becomes events.
 */

/** The microphone's encodings on the wire: 16-bit little-endian PCM or G.711 μ-law. */
export type CaptureEncoding = 'linear16' | 'mulaw';

/**
 * The formats the player decodes:
 * - `pcm16`: headerless 16-bit little-endian mono PCM (OpenAI, ElevenLabs, Gemini, Deepgram);
 * - `raw`: headerless 32-bit float little-endian (PlayAI's `raw`);
 * - `mulaw`: headerless G.711 μ-law;
 * - `wav`: RIFF/WAVE, a header then PCM; each chunk may also be a whole WAV file of its own (Hume);
 * - `mp3`, `ogg` (Vorbis), `flac`: decoded by lazily loaded WASM decoders.
 */
export const AUDIO_FORMATS = ['pcm16', 'raw', 'mulaw', 'wav', 'mp3', 'ogg', 'flac'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** The range of sample rates accepted anywhere, in Hz. */
export const MIN_SAMPLE_RATE_HZ = 8_000;
export const MAX_SAMPLE_RATE_HZ = 96_000;

/** What the capture sends: encoding and rate on the wire. */
export interface WireInputFormat {
  encoding: CaptureEncoding;
  sampleRate: number;
}

/** What the agent's audio is: the player's format and rate. */
export interface WireOutputFormat {
  format: AudioFormat;
  sampleRate: number;
}

/** A frame to send: JSON text, or binary (Deepgram's audio). */
export type OutgoingFrame = string | Uint8Array;

/** A non-fatal or fatal error a provider reports, in the conversation's terms. */
export interface ProviderError {
  kind: VoicewireErrorKind;
  message: string;
  /** The vendor's numeric code, when it has one. */
  code?: number;
  /** The conversation cannot go on by itself. */
  fatal: boolean;
}

/**
 * What a server frame means, in voicewire's terms. A provider emits these from `decode`; the
 * conversation acts on them (status, turn-taking, player, transcript, events) without knowing
 * the wire protocol.
 */
export type ProviderEvent =
  /**
   * The server answered the opening: the conversation counts as connected. `conversationId`
   * names it (shown, and given back to `ProviderSession.socket()` to resume after a drop); the
   * formats, when the server announces them (ElevenLabs), replace the provider's defaults.
   */
  | {
      type: 'ready';
      conversationId?: string;
      input?: WireInputFormat;
      output?: WireOutputFormat;
    }
  /** A chunk of the agent's voice in the output format. */
  | { type: 'agentAudio'; data: Uint8Array }
  /** The agent begins a new utterance: a new stream for the player (its played position starts at 0). */
  | { type: 'agentUtteranceStart' }
  /** The agent's utterance is complete: all its audio was sent; the queue running dry is its end. */
  | { type: 'agentUtteranceEnd' }
  /** The server heard the user start speaking: a barge-in if the agent is audible. */
  | { type: 'userSpeechStart' }
  /** The server heard the user stop speaking: the agent is expected to answer. */
  | { type: 'userSpeechEnd' }
  /**
   * Transcript text. `mode`: `delta` appends to the open turn as it is (streamed pieces);
   * `partial` replaces the open turn's text with a revisable guess; `final` settles it (a
   * sentence that extends the turn's text replaces it, another one is appended). `newTurn` starts
   * a new turn of that role even if the last one is of the same role (a new reply).
   */
  | {
      type: 'transcript';
      role: 'user' | 'agent';
      text: string;
      mode: 'delta' | 'partial' | 'final';
      newTurn?: boolean;
      /** It repeats what was already said, to complete the turn: not reported to `onAgentTranscript` again. */
      repeat?: boolean;
    }
  /**
   * The agent was cut off. `spokenText`: what it actually said, when the server knows it;
   * otherwise the conversation cuts the turn to the share of the utterance the user heard.
   */
  | { type: 'interrupted'; spokenText?: string }
  /** The agent ended the call: its last words play out, then the conversation ends. */
  | { type: 'hangup' }
  /**
   * An error from the server. `outcome`: `continue` (the call goes on), `reconnect` (this socket
   * is over, a new one may work), `fail` (the conversation is over).
   */
  | { type: 'error'; error: ProviderError; outcome: 'continue' | 'reconnect' | 'fail' }
  /** A frame the client owes the server now (a `pong`, Deepgram's `Settings` after `Welcome`). */
  | { type: 'send'; frame: OutgoingFrame }
  /** The server showed it is alive (a ping); counted, nothing else. */
  | { type: 'keepalive' }
  /** A named application event (PlayAI's `customEvent`), passed to `onCustomEvent`. */
  | { type: 'customEvent'; name: string; data: unknown }
  /** A frame that could not be understood: a non-fatal `protocol` error, nothing else. */
  | { type: 'invalid'; message: string };

/** What a socket's close means for the conversation. */
export type CloseDecision =
  /**
   * The conversation is over and cannot go on: the agent ended it on purpose, or (with `error`)
   * the connection was lost and the vendor cannot resume a conversation. Either way what the
   * agent already said plays out, then the status is `ended` (with the error, when there is one).
   */
  | { action: 'end'; error?: ProviderError }
  /** Over for good, with this error. */
  | { action: 'fail'; error: ProviderError }
  /**
   * Lost: connect again if the reconnect policy allows (the session resumes the same
   * conversation where the vendor can). `reported`: the error was already emitted.
   */
  | { action: 'reconnect'; error: ProviderError; reported?: boolean };

/** Credentials for one connection attempt, as the integrator gave them. */
export interface ProviderCredentials {
  /** The `apiKey` option (prototypes only: in production a relay holds the key). */
  apiKey: string | undefined;
  /**
   * The `token` option, or what `getToken` returned for this attempt: a relay session token, or a
   * vendor's browser-safe credential (an OpenAI ephemeral key `ek_…`, an ElevenLabs signed URL);
   * each provider documents what it recognises.
   */
  token: string | undefined;
}

/** What the conversation tells a provider when a call starts. */
export interface ProviderStartOptions {
  /** The `url` option: the endpoint's full address without its query; undefined: the vendor's own. */
  url: string | undefined;
  /** The formats the integrator asked for (`input`/`output` options), where a vendor lets the client choose. */
  input: Partial<WireInputFormat>;
  output: Partial<WireOutputFormat>;
  /** A conversation to continue (the `continueConversation` option), where the vendor can. */
  continueConversation: string | undefined;
  turnTaking: 'vad' | 'pushToTalk';
}

export interface Provider {
  /** `playai`, `openai`, `elevenlabs`…: for logs, stats and error messages. */
  readonly name: string;
  /**
   * Begin a call: check the provider's options and settle the formats. Returns a message (for an
   * `invalid-options` error) when something is wrong; never throws.
   */
  start(options: ProviderStartOptions): ProviderSession | string | Promise<ProviderSession | string>;
  /**
   * Load now what `start()` will need, for a provider whose protocol loads lazily (the page
   * bundles only a small factory; `conversation.preload()` calls this on mount).
   */
  preload?(): void;
}

/** One call: from `start()` to its end, across reconnections. */
export interface ProviderSession {
  /** What the capture must send (the server may announce another in `ready`). */
  readonly input: WireInputFormat;
  /** What the player decodes (the server may announce another in `ready`). */
  readonly output: WireOutputFormat;
  /**
   * The wire has its own control for push-to-talk (OpenAI: no server VAD, commit and ask for a
   * response on release). False: the conversation gates the microphone and sends a short run of
   * silence after a release, so the server's VAD closes the turn.
   */
  readonly pushToTalkControl: boolean;
  /**
   * Who says what the agent managed to say when the user cut it off: `server` (PlayAI's
   * `onAgentInterrupted` carries it), or `estimate` (the vendor never says: the conversation
   * keeps the share of the utterance the user heard, from the player's played position).
   */
  readonly transcriptOnInterrupt: 'server' | 'estimate';
  /**
   * The socket of one attempt. `resume`: the conversation id of the last `ready`, after a drop
   * (a provider that cannot resume ignores it and decides `end` on the close instead). A session
   * may also keep resume state of its own across its sockets (Gemini's resumption handle changes
   * during the call and is not the conversation id).
   */
  socket(credentials: ProviderCredentials, resume: string | undefined): ProviderSocket;
}

/** How the played position of the agent's current utterance stood when the user barged in. */
export interface BargeIn {
  /** Milliseconds of the current utterance the user heard. */
  playedMs: number;
  /** Agent audio was still playing or queued (something was cut off). */
  cutOff: boolean;
  /** The user took the floor locally (push-to-talk press), not on the server's word. */
  local: boolean;
}

/** One WebSocket of a session. */
export interface ProviderSocket {
  readonly url: string;
  readonly protocols?: string | string[];
  /** Frames to send as soon as the socket opens (PlayAI's `setup`, ElevenLabs' initiation data). */
  opened(): OutgoingFrame[];
  /** A server frame (text, or an ArrayBuffer for binary frames) as events. Never throws. */
  decode(data: unknown): ProviderEvent[];
  /**
   * A microphone frame, already in the input format, as the frame to send. Called only once the
   * socket is ready for audio (see `audioBeforeReady`).
   */
  audio(frame: Uint8Array): OutgoingFrame;
  /**
   * Microphone audio may go out as soon as the opening frames are sent (PlayAI buffers it
   * server-side); otherwise it waits for `ready`.
   */
  readonly audioBeforeReady: boolean;
  /** Text from the user (`sendCustomInput`): the frames to send, or null when the vendor has no text input. */
  text(text: string): OutgoingFrame[] | null;
  /** The user barged in: what to tell the server (OpenAI: truncate what was not heard). */
  bargeIn(state: BargeIn): OutgoingFrame[];
  /** Turn-taking switched mid-call (OpenAI: server VAD on or off). */
  turnTaking(mode: 'vad' | 'pushToTalk'): OutgoingFrame[];
  /** Push-to-talk pressed / released, for providers with `pushToTalkControl`. */
  talkPressed(): OutgoingFrame[];
  talkReleased(): OutgoingFrame[];
  /** The client must show it is alive this often (Deepgram's `KeepAlive`); absent: no need. */
  readonly keepAliveMs?: number;
  keepAlive?(): OutgoingFrame;
  /** What the close of this socket means (code, reason, and whether the call was ever connected). */
  closed(code: number | undefined, reason: string, everConnected: boolean): CloseDecision;
}
