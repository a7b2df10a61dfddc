/**
 * Messages of the agent talk WebSocket protocol (PlayAI's `/v1/talk/<agentId>`).
 *
 * The seed page documents `setup`, `audioIn`, `audioStream`, `newAudioStream`,
 * `voiceActivityStart`, `voiceActivityEnd` and `error`; the rest are sent by the real service
 * and handled by its shipped SDK (see PROTOCOL.md). Those must be handled, never required.
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

/** The seed's defaults for the optional setup fields. */
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
export const MIN_SAMPLE_RATE_HZ = 8_000;
export const MAX_SAMPLE_RATE_HZ = 96_000;

// ---------------------------------------------------------------------------------------------
// Client → server

export interface SetupMessage {
  type: 'setup';
  /** Required by the seed. A relay injects it, so a browser behind one may leave it out. */
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
export interface AudioStreamEndMessage {
  type: 'audioStreamEnd';
  audioStreamEnd?: { message?: string; jobId?: string };
}
export interface HangupMessage {
  type: 'hangup';
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
/** Observed messages a client may ignore. */
export interface IgnorableServerMessage {
  type: 'llmStreamEnd' | 'SYS_LOG' | 'MEDIA_LOG' | 'navigate' | 'uiEvent';
  [field: string]: unknown;
}

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
