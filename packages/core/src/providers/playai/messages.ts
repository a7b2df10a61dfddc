/**
 * Messages of the agent talk WebSocket protocol (PlayAI's `/v1/talk/<agentId>`), described in
 * docs/protocol.md.
 *
 * PlayAI's API page documents `setup`, `audioIn`, `audioStream`, `newAudioStream`,
 * `voiceActivityStart`, `voiceActivityEnd` and `error`; the rest are sent by the deployed service
 * and known to its published browser SDK (docs/protocol.md, "Server → client"). Those
 * are handled, never required.
 */

/** Audio formats the agent can speak in (`setup.outputFormat`). */
export const OUTPUT_FORMATS = ['mp3', 'raw', 'wav', 'ogg', 'flac', 'mulaw'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Headerless encodings for `setup.inputEncoding`; each needs `inputSampleRate`. */
export const HEADERLESS_INPUT_ENCODINGS = [
  'mulaw',
  'linear16',
  'flac',
  'amr-nb',
  'amr-wb',
  'opus',
  'speex',
  'g729',
] as const;
export type HeaderlessInputEncoding = (typeof HEADERLESS_INPUT_ENCODINGS)[number];

export const INPUT_ENCODINGS = ['media-container', ...HEADERLESS_INPUT_ENCODINGS] as const;
export type InputEncoding = (typeof INPUT_ENCODINGS)[number];

/** The defaults of the optional setup fields (docs/protocol.md, "setup"). */
export const SETUP_DEFAULTS = {
  outputFormat: 'mp3',
  outputSampleRate: 44_100,
  inputEncoding: 'media-container',
} as const satisfies {
  outputFormat: OutputFormat;
  outputSampleRate: number;
  inputEncoding: InputEncoding;
};

/** The range of sample rates a setup may ask for, in Hz. */
export { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '../types.ts';

// ---------------------------------------------------------------------------------------------
// Client → server

export interface SetupMessage {
  type: 'setup';
  /**
   * Required by the API page. A relay injects it, so a browser behind one may leave it out; the
   * deployed service also accepts none for public agents.
   */
  apiKey?: string;
  outputFormat?: OutputFormat;
  outputSampleRate?: number;
  inputEncoding?: InputEncoding;
  inputSampleRate?: number;
  customGreeting?: string;
  prompt?: string;
  continueConversation?: string;
}

export interface AudioInMessage {
  type: 'audioIn';
  /** Base64 of audio in the configured input encoding and rate; `""` while muted (observed). */
  data: string;
}

export interface CustomInputMessage {
  type: 'customInput';
  data: string;
}

export type ClientMessage = SetupMessage | AudioInMessage | CustomInputMessage;
export type ClientMessageType = ClientMessage['type'];

/**
 * What PlayAI's browser SDK sends besides the protocol's messages: player bookkeeping
 * (`mediaLog`, `bufferEmpty`), agent events to subscribe to (`extendConversationSetup`) and, at
 * hang-up, a recording of the call (`conversationAudio`). A server accepts them quietly; the
 * local agent drops them unread (docs/protocol.md).
 */
export const SDK_CLIENT_MESSAGE_TYPES = [
  'mediaLog',
  'bufferEmpty',
  'extendConversationSetup',
  'conversationAudio',
] as const;

// ---------------------------------------------------------------------------------------------
// Server → client

export interface InitMessage {
  type: 'init';
  conversationId: string;
  agentOwnerId?: string;
  language?: string;
}
export interface AudioStreamMessage {
  type: 'audioStream';
  /** Base64 of a chunk of agent audio in the configured output format and rate. */
  data: string;
}
export interface NewAudioStreamMessage {
  type: 'newAudioStream';
}
export interface VoiceActivityStartMessage {
  type: 'voiceActivityStart';
}
export interface VoiceActivityEndMessage {
  type: 'voiceActivityEnd';
}
export interface UserTranscriptMessage {
  type: 'onUserTranscript';
  message: string;
}
export interface AgentTranscriptMessage {
  type: 'onAgentTranscript';
  message: string;
}
export interface AgentInterruptedMessage {
  type: 'onAgentInterrupted';
  /** The part of the agent's text that was actually spoken, when the server knows it. */
  updatedMessage?: string;
}
export interface AgentGreetingMessage {
  type: 'onAgentGreeting';
  message: string;
}
export interface AgentGreetingEndMessage {
  type: 'onAgentGreetingEnd';
  message?: string;
}
export interface AudioStreamStartMessage {
  type: 'audioStreamStart';
}
/**
 * The end of one spoken response. The deployed service sends `message` and a numeric `jobId` at
 * the top level; an older form nests them in `audioStreamEnd` (with a string `jobId`). Both are
 * read, and the top-level fields are filled from whichever the server sent.
 */
export interface AudioStreamEndMessage {
  type: 'audioStreamEnd';
  /** The text of the response that ended. */
  message?: string;
  jobId?: number | string;
  /** The nested form, as the server sent it. */
  audioStreamEnd?: { message?: string; jobId?: number | string };
}
export interface HangupMessage {
  type: 'hangup';
  /** Who ended the call; the deployed service says `user`, `agent`, `error` or `system`. */
  endedBy?: string;
}
export interface CustomEventMessage {
  type: 'customEvent';
  name: string;
  data?: unknown;
}
export interface ErrorMessage {
  type: 'error';
  code: number;
  message: string;
  isFatal?: boolean;
}
/** The language model has finished this response's text (its audio may still be coming). */
export interface LlmStreamEndMessage {
  type: 'llmStreamEnd';
}
/** The service's own logs: `payload` is whatever it put there. */
export interface ServerLogMessage {
  type: 'SYS_LOG' | 'MEDIA_LOG';
  payload?: unknown;
}
/** An agent built for PlayAI's web embed asks its page to navigate. */
export interface NavigateMessage {
  type: 'navigate';
  pageDefinition?: string;
}
/** An agent built for PlayAI's web embed asks its page to show a component. */
export interface UiEventMessage {
  type: 'uiEvent';
  componentCode?: string;
  props?: unknown;
}
/** Messages a client may ignore; they parse so that they are not reported as unknown. */
export type IgnorableServerMessage =
  | LlmStreamEndMessage
  | ServerLogMessage
  | NavigateMessage
  | UiEventMessage;

export type ServerMessage =
  | InitMessage
  | AudioStreamMessage
  | NewAudioStreamMessage
  | VoiceActivityStartMessage
  | VoiceActivityEndMessage
  | UserTranscriptMessage
  | AgentTranscriptMessage
  | AgentInterruptedMessage
  | AgentGreetingMessage
  | AgentGreetingEndMessage
  | AudioStreamStartMessage
  | AudioStreamEndMessage
  | HangupMessage
  | CustomEventMessage
  | ErrorMessage
  | IgnorableServerMessage;
export type ServerMessageType = ServerMessage['type'];
