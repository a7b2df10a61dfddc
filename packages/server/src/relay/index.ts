export { AudioRateLimiter, realTimeBytesPerSecond } from './audioRate.ts';
export type {
  Relay,
  RelayCloseOptions,
  RelayLogEntry,
  RelayLogger,
  RelayLogLevel,
  RelayOptions,
  RelayProviderName,
} from './createRelay.ts';
export { createRelay } from './createRelay.ts';
export type { RefusalReason } from './metrics.ts';
export { type RedisStoreOptions, redisStore } from './redisStore.ts';
export type {
  SessionTokenFailure,
  SessionTokenOptions,
  SessionTokenPayload,
  SessionTokenVerification,
  VerifySessionTokenOptions,
} from './sessionToken.ts';
export { createSessionToken, sessionTokenId, verifySessionToken } from './sessionToken.ts';
export {
  type Lease,
  type LeaseRefusal,
  type LeaseRequest,
  type LeaseResult,
  memoryStore,
  type RelayStore,
  StoreUnavailableError,
} from './store.ts';
