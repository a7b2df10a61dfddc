import type { CloseDecision, ProviderError } from '../types.ts';
import { describeErrorCode, errorFromServerMessage, isKnownErrorCode } from './errorCodes.ts';

const NORMAL_CLOSURE = 1000;
/**
 * Close codes that mean the same on every WebSocket, whatever the talk protocol's error table says
 * of the same number (docs/protocol.md, "Errors"): 1001 "going away" (a server or relay shutting
 * down or draining: reconnect elsewhere) and 1005 "no status" (a close frame without a code). A
 * refusal travels in an `error` message first, which decides on its own.
 */
const WEBSOCKET_CLOSE_CODES = new Set([1001, 1005]);

/**
 * What the close of a talk-protocol socket means, from its code, the last server error on that
 * socket and whether the conversation was ever connected:
 *
 * - a protocol close code that is not retryable (4400, 4401, 1002, 1003) → fail; 1001 and 1005 are
 *   read as WebSocket codes (going away, no status), not as the protocol's 1001/1005 errors;
 * - a non-retryable server error before the close → fail with that error;
 * - a normal closure (1000) with neither → the agent ended it;
 * - never connected and no code or error → fail (most likely a wrong URL or a server that is down);
 * - anything else → reconnect (a reconnect resumes the conversation with `continueConversation`).
 */
export function playAICloseDecision(
  code: number | undefined,
  reason: string,
  lastError: ProviderError | null,
  everConnected: boolean,
): CloseDecision {
  const coded =
    code !== undefined && isKnownErrorCode(code) && !WEBSOCKET_CLOSE_CODES.has(code)
      ? describeErrorCode(code)
      : undefined;
  const codedError =
    coded && errorFromServerMessage({ type: 'error', code: coded.code, message: reason ?? '' }).toJSON();
  if (codedError && !coded.retryable) return { action: 'fail', error: { ...codedError, fatal: true } };
  if (lastError !== null && !(lastError.code !== undefined && describeErrorCode(lastError.code).retryable)) {
    return { action: 'fail', error: { ...lastError, fatal: true } };
  }
  // The server closed the conversation on purpose without a `hangup`: over, not lost.
  if (coded === undefined && lastError === null && code === NORMAL_CLOSURE) return { action: 'end' };
  if (codedError) return { action: 'reconnect', error: { ...codedError, fatal: false } };
  if (lastError !== null)
    return { action: 'reconnect', error: { ...lastError, fatal: false }, reported: true };
  const message = `${everConnected ? 'The connection to the voice agent was lost' : 'Could not connect to the voice agent'} (close code ${code ?? 'none'}).`;
  // Never connected: nothing to resume, and most likely a wrong URL or a server that is down.
  if (!everConnected) return { action: 'fail', error: { kind: 'network', message, fatal: true } };
  return { action: 'reconnect', error: { kind: 'network', message, fatal: false } };
}
