import type { ProviderError } from './types.ts';

/**
 * The close codes voicewire's relay (@voicewire/server) ends a browser's socket with when it
 * refuses or loses a session, for vendors whose own protocol has no error message of the relay's
 * to carry them (packages/server/README.md, "The relay"): 4401 a token refused, revoked or used,
 * 4400 a malformed first message, 4429 too many sessions, 4503 no session store, 1011 the vendor
 * unreachable. Null for any other code.
 */
export function relayCloseError(code: number | undefined, reason: string): ProviderError | null {
  const detail = reason ? ` (${reason})` : '';
  switch (code) {
    case 4401:
      return {
        kind: 'unauthorized',
        code,
        message: `The relay refused the session token${detail}.`,
        fatal: true,
      };
    case 4400:
      return {
        kind: 'invalid-parameters',
        code,
        message: `The relay refused the request${detail}.`,
        fatal: true,
      };
    case 4429:
      return {
        kind: 'too-many-connections',
        code,
        message: `Too many sessions at once${detail}.`,
        fatal: true,
      };
    case 4503:
      return {
        kind: 'server-error',
        code,
        message: `The relay cannot take sessions right now${detail}.`,
        fatal: true,
      };
    case 1011:
      return {
        kind: 'server-error',
        code,
        message: `The voice service could not be reached${detail}.`,
        fatal: true,
      };
    default:
      return null;
  }
}
