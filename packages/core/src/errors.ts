/**
 * One error type for everything the library reports: server error codes, network failures,
 * microphone and audio problems. `kind` is what an integrator switches on to show a message;
 * `fatal` says whether the conversation is over (a non-fatal error is retried or ignored).
 */
export type VoicewireErrorKind =
  /** 1001, 1003, 4401: the API key or token was refused. */
  | 'unauthorized'
  /** 1002: the agent id does not exist. */
  | 'agent-not-found'
  /** 1005: the account has no credits left. */
  | 'insufficient-credits'
  /** 4400: a message did not match the protocol (a bug on the client's side). */
  | 'invalid-parameters'
  /** 4429: too many concurrent connections; retried with backoff. */
  | 'too-many-connections'
  /** 4500 or an unknown server code: the server failed; retried. */
  | 'server-error'
  /** The socket could not be opened or dropped. */
  | 'network'
  /** The server did not answer in time (no `init` after `setup`). */
  | 'timeout'
  /** A server message could not be understood (malformed JSON, bad base64, truncated audio). */
  | 'protocol'
  /** Audio could not be decoded or played. */
  | 'decode'
  /** The user or the browser refused the microphone. */
  | 'microphone-permission-denied'
  /** There is no microphone (or none matches the requested device). */
  | 'microphone-not-found'
  /** The microphone disappeared mid-call and no other could be used. */
  | 'microphone-lost'
  /** The microphone exists but could not be started (in use by another program, hardware error). */
  | 'microphone-unavailable'
  /** Web Audio is missing, or the AudioContext could not be created or resumed. */
  | 'audio-context'
  /** The browser lacks something the library needs (AudioWorklet, WebSocket, getUserMedia). */
  | 'unsupported'
  /** Options given by the integrator are invalid. */
  | 'invalid-options';

export interface VoicewireErrorInit {
  kind: VoicewireErrorKind;
  message: string;
  /** The server's numeric error code, when the error came from the server. */
  code?: number;
  /** Whether the conversation cannot go on. */
  fatal?: boolean;
  cause?: unknown;
}

export class VoicewireError extends Error {
  override readonly name = 'VoicewireError';
  readonly kind: VoicewireErrorKind;
  readonly code: number | undefined;
  readonly fatal: boolean;

  constructor(init: VoicewireErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.code = init.code;
    this.fatal = init.fatal ?? true;
  }

  /** A plain, serialisable snapshot (what the store keeps). */
  toJSON(): { kind: VoicewireErrorKind; code?: number; message: string; fatal: boolean } {
    return this.code === undefined
      ? { kind: this.kind, message: this.message, fatal: this.fatal }
      : { kind: this.kind, code: this.code, message: this.message, fatal: this.fatal };
  }
}

export function isVoicewireError(value: unknown): value is VoicewireError {
  return value instanceof VoicewireError;
}
