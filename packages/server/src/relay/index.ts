export { AudioRateLimiter, realTimeBytesPerSecond } from './audioRate.ts';
export type { Relay, RelayLogEntry, RelayLogger, RelayLogLevel, RelayOptions } from './createRelay.ts';
export { createRelay } from './createRelay.ts';
export type {
  SessionTokenFailure,
  SessionTokenOptions,
  SessionTokenPayload,
  SessionTokenVerification,
  VerifySessionTokenOptions,
} from './sessionToken.ts';
export { createSessionToken, verifySessionToken } from './sessionToken.ts';
