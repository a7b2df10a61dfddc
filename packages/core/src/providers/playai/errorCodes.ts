import { VoicewireError, type VoicewireErrorKind } from '../../errors.ts';
import type { ErrorMessage } from './messages.ts';

/** The error codes of the talk protocol (docs/protocol.md, "Errors"). */
export const KNOWN_ERROR_CODES = [1001, 1002, 1003, 1005, 4400, 4401, 4429, 4500] as const;
export type KnownErrorCode = (typeof KNOWN_ERROR_CODES)[number];

/** What a server error code means and what a client should do about it. */
export interface ErrorCodeInfo {
  code: number;
  /** A short constant-style name, for logs (`INVALID_AUTHORIZATION_TOKEN`). */
  name: string;
  /** The API page's text for the code: what the server means (docs/protocol.md). */
  message: string;
  kind: VoicewireErrorKind;
  /** The conversation cannot go on by itself (no automatic reconnect). */
  fatal: boolean;
  /** A client may reconnect later (with backoff) and expect it to work. */
  retryable: boolean;
  /** A sentence fit to show an end user, who cannot fix keys or parameters. */
  userMessage: string;
}

const NOT_AUTHORISED = 'This voice assistant is not available right now (it could not be authorised).';
const RETRYING = 'The voice assistant had a problem. Trying again shortly…';

/** code, name, kind, retryable (the rest are fatal), the API page's text, the end user's text. */
const TABLE: [KnownErrorCode, string, VoicewireErrorKind, boolean, string, string][] = [
  [
    1001,
    'INVALID_AUTHORIZATION_TOKEN',
    'unauthorized',
    false,
    'Invalid authorization token.',
    NOT_AUTHORISED,
  ],
  [
    1002,
    'INVALID_AGENT_ID',
    'agent-not-found',
    false,
    'Invalid agent id.',
    'This voice assistant could not be found.',
  ],
  [
    1003,
    'INVALID_AUTHORIZATION_CREDENTIALS',
    'unauthorized',
    false,
    'Invalid authorization credentials.',
    NOT_AUTHORISED,
  ],
  [
    1005,
    'NOT_ENOUGH_CREDITS',
    'insufficient-credits',
    false,
    'Not enough credits.',
    'This voice assistant is out of credits. Please try again later.',
  ],
  [
    4400,
    'INVALID_PARAMETERS',
    'invalid-parameters',
    false,
    'Invalid parameters. Indicates the message sent to the server failed to match the expected format. Double check the logic and try again.',
    'Something went wrong while talking to the voice assistant.',
  ],
  [
    4401,
    'UNAUTHORIZED',
    'unauthorized',
    false,
    'Unauthorized. Invalid authorization token or invalid authorization credentials for specified agent.',
    NOT_AUTHORISED,
  ],
  [
    4429,
    'TOO_MANY_CONNECTIONS',
    'too-many-connections',
    true,
    'You have reached the maximum number of concurrent connections allowed by your current plan. Please consider upgrading your plan or reducing the number of active connections to continue.',
    'The voice assistant is busy right now. Trying again shortly…',
  ],
  [
    4500,
    'INTERNAL_ERROR',
    'server-error',
    true,
    'Generic error code for internal errors, such as failures to generate responses. Generally, the user is not at fault when these happen. An appropriate reaction is to wait a few moments and try again. If the problem persists, contacting support is advised.',
    RETRYING,
  ],
];

/**
 * Every documented server error code. 4429 and 4500 are transient: the session ends, but a
 * client should reconnect with backoff (docs/protocol.md, "Errors"), so they are marked non-fatal and retryable.
 * Everything else is a configuration problem that retrying cannot fix.
 */
export const ERROR_CODES: Readonly<Record<KnownErrorCode, Readonly<ErrorCodeInfo>>> = /* @__PURE__ */ (() => {
  const codes = {} as Record<KnownErrorCode, Readonly<ErrorCodeInfo>>;
  for (const [code, name, kind, retryable, message, userMessage] of TABLE) {
    codes[code] = Object.freeze({ code, name, message, kind, fatal: !retryable, retryable, userMessage });
  }
  return Object.freeze(codes);
})();

/** Whether `code` is one of the documented codes (docs/protocol.md, "Errors"). */
export function isKnownErrorCode(code: unknown): code is KnownErrorCode {
  return typeof code === 'number' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The meaning of any server error code. Codes the API page does not list are treated like 4500
 * (a server-side failure, worth retrying) because a client cannot be at fault for a code it
 * was never told about, and giving up on an unknown code would turn every new server error
 * into a dead conversation.
 */
export function describeErrorCode(code: number): Readonly<ErrorCodeInfo> {
  if (isKnownErrorCode(code)) return ERROR_CODES[code];
  return {
    code,
    name: 'UNKNOWN_ERROR',
    message: `Unknown server error code ${code}.`,
    kind: 'server-error',
    fatal: false,
    retryable: true,
    userMessage: RETRYING,
  };
}

/**
 * Turn a server `error` message into the library's error. The server's own text wins over the
 * table's (it is usually more specific), and an explicit `isFatal` from the server overrides the
 * table: the real service marks some errors as non-fatal and its shipped SDK wrongly ends the
 * call on every error.
 */
export function errorFromServerMessage(msg: ErrorMessage): VoicewireError {
  const info = describeErrorCode(msg.code);
  const message = typeof msg.message === 'string' && msg.message.trim() !== '' ? msg.message : info.message;
  return new VoicewireError({
    kind: info.kind,
    code: msg.code,
    message,
    fatal: typeof msg.isFatal === 'boolean' ? msg.isFatal : info.fatal,
  });
}
