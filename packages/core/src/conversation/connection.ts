import { describeErrorCode, errorFromServerMessage, isKnownErrorCode } from '../protocol/errorCodes.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import { createSetupMessage } from '../protocol/validateSetup.ts';
import { errorText, fatalError } from './conversationError.ts';
import { type ResolvedReconnectPolicy, reconnectDelayMs } from './reconnectPolicy.ts';
import type { ConversationHost, Run } from './run.ts';
import { callAsync, guard, noop, safely } from './safely.ts';
import { buildSocketUrl } from './socketUrl.ts';
import { createTimer, type Timer } from './time.ts';
import type { ConversationError, DisconnectReason } from './types.ts';

/*
 * A run's connection: each attempt (a token, the socket, `setup`, the agent's `init`), what a
 * close or a server error means (end, fail, or reconnect after the policy's backoff), and the
 * timers. The socket primitives and the pure decisions come last.
 */

/** One connection attempt: a fresh token when `getToken` is given, the socket, setup, init. */
export function connect(host: ConversationHost, current: Run): void {
  const attempt = current.attempts.begin();
  // The timeout covers the whole attempt: the token, the socket opening and the agent's init.
  current.attempts.timeout.start(current.options.connectTimeoutMs, () =>
    guard(() => onConnectTimeout(host, current, attempt)),
  );
  const getToken = host.options().getToken;
  if (getToken === undefined) {
    openSocket(host, current, current.options.token);
    return;
  }
  callAsync(getToken).then(
    (token) => {
      if (current.ended || !current.attempts.isCurrent(attempt)) return;
      guard(() => openSocket(host, current, typeof token === 'string' ? token : undefined));
    },
    (error: unknown) => {
      if (current.ended || !current.attempts.isCurrent(attempt)) return;
      const failure = fatalError('network', `Could not get a session token: ${errorText(error)}`);
      current.attempts.timeout.clear();
      if (!current.attempts.everConnected) host.fail(current, failure, { by: 'network' });
      else reconnect(host, current, { ...failure, fatal: false });
    },
  );
}

function openSocket(host: ConversationHost, current: Run, token: string | undefined): void {
  const { agentId, url } = current.options;
  const WebSocketImpl =
    current.options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (WebSocketImpl === undefined) {
    host.fail(current, fatalError('unsupported', 'This browser has no WebSocket.'));
    return;
  }
  try {
    const conn: Connection = openConnection(WebSocketImpl, buildSocketUrl(agentId, url, token), {
      open: () => guard(() => onOpen(current, conn)),
      message: (data) => guard(() => host.message(current, conn, data)),
      close: (code, reason) => guard(() => onSocketClose(host, current, conn, code, reason)),
    });
    current.conn = conn;
  } catch (error) {
    const message = `The socket could not be opened: ${errorText(error)} (check the "url" option).`;
    host.fail(current, fatalError('invalid-options', message));
  }
}

function onOpen(current: Run, conn: Connection): void {
  if (current.conn !== conn || current.ended) return;
  const { apiKey, input, output, customGreeting, prompt, continueConversation } = current.options;
  const setup = createSetupMessage({
    apiKey,
    outputFormat: output.format,
    outputSampleRate: output.sampleRate,
    inputEncoding: input.encoding,
    inputSampleRate: input.sampleRate,
    customGreeting,
    prompt,
    // A reconnect resumes the same conversation.
    continueConversation: current.conversationId ?? continueConversation,
  });
  if (!current.uplink.send(conn, JSON.stringify(setup))) return;
  conn.setupSent = true;
  current.uplink.flush(conn);
}

/** The agent answered (`init`) on `conn`: the attempt succeeded. True for the socket's first `init`. */
export function connected(current: Run, conn: Connection): boolean {
  current.attempts.timeout.clear();
  const first = !conn.initReceived;
  conn.initReceived = true;
  current.attempts.connected();
  return first;
}

function onConnectTimeout(host: ConversationHost, current: Run, attempt: number): void {
  if (current.ended || !current.attempts.isCurrent(attempt) || current.conn?.initReceived === true) return;
  const { connectTimeoutMs } = current.options;
  const error = fatalError('timeout', `The voice agent did not answer within ${connectTimeoutMs} ms.`);
  if (!current.attempts.everConnected) {
    host.fail(current, error, { by: 'network' });
    return;
  }
  dropSocket(current);
  reconnect(host, current, { ...error, fatal: false });
}

function onSocketClose(
  host: ConversationHost,
  current: Run,
  conn: Connection,
  code: number,
  reason: string,
): void {
  if (current.conn !== conn || current.ended) return;
  current.conn = null;
  current.attempts.timeout.clear();
  const outcome = closeOutcome(code, reason, conn.lastError, current.attempts.everConnected);
  if (outcome.kind === 'fail') host.fail(current, outcome.error, outcome.reason);
  else if (outcome.kind === 'end') void host.endRun(current, 'ended', null, outcome.reason);
  else reconnect(host, current, outcome.error, outcome.closeCode, outcome.reported);
}

/**
 * A server `error` message: a retryable one (4429, 4500, unknown codes) lets the session go on,
 * or, marked `isFatal`, ends this socket and reconnects at once; a fatal one ends the
 * conversation; any other is reported and decides what the socket's close will mean.
 */
export function onServerError(
  host: ConversationHost,
  current: Run,
  conn: Connection,
  message: ServerMessage & { type: 'error' },
): void {
  const error = errorFromServerMessage(message).toJSON();
  if (describeErrorCode(message.code).retryable) {
    const soft = { ...error, fatal: false };
    conn.lastError = soft;
    host.events.emit('error', soft);
    if (message.isFatal === true) {
      // The server says this session is over but a new one may work: don't wait for its close.
      dropSocket(current);
      reconnect(host, current, soft, undefined, true);
    }
    return;
  }
  if (error.fatal) {
    host.fail(current, error);
    return;
  }
  conn.lastError = error;
  host.events.emit('error', error);
}

/** Try again after the policy's backoff, or give up. `reported`: the error was already emitted. */
function reconnect(
  host: ConversationHost,
  current: Run,
  error: ConversationError,
  closeCode?: number,
  reported = false,
): void {
  const delay = current.attempts.nextDelayMs();
  if (delay === null) {
    const fatal = current.attempts.giveUp(error);
    const by = error.kind === 'network' || error.kind === 'timeout' ? 'network' : 'error';
    host.fail(current, fatal, withCode({ by, error: fatal }, closeCode));
    return;
  }
  current.stats.totals.reconnects += 1;
  host.turn(current, 'connectionLost', { status: 'reconnecting', error });
  if (!reported) host.events.emit('error', error);
  current.attempts.retry.start(delay, () => {
    if (!host.stale(current)) connect(host, current);
  });
}

/** Detach and close the current socket (its close event must not be handled again). */
function dropSocket(current: Run): void {
  const conn = current.conn;
  current.conn = null;
  current.attempts.timeout.clear();
  if (conn !== null) closeConnection(conn);
}

/** The end of a run: no more attempts, and the socket closed. */
export function disconnect(current: Run): void {
  current.attempts.retry.clear();
  dropSocket(current);
}

// --------------------------------------------------------------------------------------------
// Socket primitives and the pure decisions

const WS_CONNECTING = 0;
const WS_OPEN = 1;
const NORMAL_CLOSURE = 1000;

/** One socket of a run; a run's sockets come and go as it reconnects. */
export interface Connection {
  readonly ws: WebSocket;
  setupSent: boolean;
  initReceived: boolean;
  /** A non-fatal server error seen on this socket; decides what its close means. */
  lastError: ConversationError | null;
}

interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/** Open a socket and wire its events; throws what the WebSocket constructor throws (a bad URL). */
function openConnection(WebSocketImpl: typeof WebSocket, url: string, handlers: SocketHandlers): Connection {
  const ws = new WebSocketImpl(url);
  ws.onopen = () => handlers.open();
  ws.onmessage = (event: MessageEvent) => handlers.message(event.data);
  ws.onclose = (event: CloseEvent) => handlers.close(event.code, event.reason);
  // A failed socket always closes afterwards; the close event carries what there is to know.
  ws.onerror = noop;
  return { ws, setupSent: false, initReceived: false, lastError: null };
}

/** Detach every handler (its close must not be handled again) and close it. */
function closeConnection(conn: Connection): void {
  const { ws } = conn;
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  if (ws.readyState === WS_OPEN || ws.readyState === WS_CONNECTING) safely(() => ws.close(NORMAL_CLOSURE));
}

export function isOpen(conn: Connection | null): conn is Connection {
  return conn !== null && conn.ws.readyState === WS_OPEN;
}

/** Send a text frame; false when the socket is not open or refuses it. */
export function sendText(conn: Connection, text: string): boolean {
  if (!isOpen(conn)) return false;
  try {
    conn.ws.send(text);
  } catch {
    return false;
  }
  return true;
}

/** What a socket's close means for the conversation. */
type CloseOutcome =
  /** Over for good: the error is fatal. */
  | { kind: 'fail'; error: ConversationError; reason: DisconnectReason }
  /** The agent ended the conversation. */
  | { kind: 'end'; reason: DisconnectReason }
  /** Lost: reconnect if the policy allows. `reported`: the error was already emitted. */
  | { kind: 'reconnect'; error: ConversationError; closeCode: number | undefined; reported: boolean };

/**
 * Decide from the close code, the last server error on that socket and whether the conversation
 * was ever connected:
 *
 * - a protocol close code that is not retryable (4401 bad key, 4402 no credits…) → fail;
 * - a non-retryable server error before the close → fail with that error;
 * - a normal closure (1000) with neither → the agent ended it;
 * - never connected and no code or error → fail (most likely a wrong URL or a server that is down);
 * - anything else → reconnect.
 */
export function closeOutcome(
  code: number | undefined,
  reason: string,
  lastError: ConversationError | null,
  everConnected: boolean,
): CloseOutcome {
  const closeCode = typeof code === 'number' ? code : undefined;
  const coded =
    closeCode !== undefined && isKnownErrorCode(closeCode) ? describeErrorCode(closeCode) : undefined;
  const codedError =
    coded && errorFromServerMessage({ type: 'error', code: coded.code, message: reason ?? '' }).toJSON();
  if (codedError && !coded.retryable) {
    const error = { ...codedError, fatal: true };
    return { kind: 'fail', error, reason: withCode({ by: 'error', error: codedError }, closeCode) };
  }
  if (lastError !== null && !(lastError.code !== undefined && describeErrorCode(lastError.code).retryable)) {
    const error = { ...lastError, fatal: true };
    return { kind: 'fail', error, reason: withCode({ by: 'error', error }, closeCode) };
  }
  if (coded === undefined && lastError === null && closeCode === NORMAL_CLOSURE) {
    // The server closed the conversation on purpose without a `hangup`: over, not lost.
    return { kind: 'end', reason: withCode({ by: 'agent' }, closeCode) };
  }
  if (codedError)
    return { kind: 'reconnect', error: { ...codedError, fatal: false }, closeCode, reported: false };
  if (lastError !== null)
    return { kind: 'reconnect', error: { ...lastError, fatal: false }, closeCode, reported: true };
  const message = `${everConnected ? 'The connection to the voice agent was lost' : 'Could not connect to the voice agent'} (close code ${closeCode ?? 'none'}).`;
  if (!everConnected) {
    // Nothing to resume and most likely a wrong URL or a server that is down: say so now.
    const error: ConversationError = { kind: 'network', message, fatal: true };
    return { kind: 'fail', error, reason: withCode({ by: 'network' }, closeCode) };
  }
  return { kind: 'reconnect', error: { kind: 'network', message, fatal: false }, closeCode, reported: false };
}

function withCode(reason: DisconnectReason, closeCode: number | undefined): DisconnectReason {
  return closeCode === undefined ? reason : { ...reason, closeCode };
}

/**
 * The connection attempts of one run: which attempt is current, the failures since the last
 * `init`, the backoff before the next, and the two timers (the attempt's timeout, the wait
 * before a reconnect).
 */
export interface Attempts {
  /** Starts an attempt and returns its id: a token or timer of an older one is then ignored. */
  begin(): number;
  isCurrent(id: number): boolean;
  /** The agent answered (`init`): the failure count starts over. */
  connected(): void;
  readonly everConnected: boolean;
  /** Counts a failure and returns the wait before the next attempt; null when the policy gives up. */
  nextDelayMs(): number | null;
  /** The error to end with when the policy gives up after `error`. */
  giveUp(error: ConversationError): ConversationError;
  /** Covers one attempt: the token, the socket opening and the agent's `init`. */
  readonly timeout: Timer;
  /** The wait before the next attempt. */
  readonly retry: Timer;
}

export function createAttempts(policy: ResolvedReconnectPolicy | null): Attempts {
  let id = 0;
  /** Failed reconnect attempts since the last `init`. */
  let failures = 0;
  let everConnected = false;
  return {
    begin: () => ++id,
    isCurrent: (attempt) => attempt === id,
    connected() {
      failures = 0;
      everConnected = true;
    },
    get everConnected() {
      return everConnected;
    },
    nextDelayMs() {
      if (policy === null || failures >= policy.maxAttempts) return null;
      const delay = reconnectDelayMs(policy, failures);
      failures += 1;
      return delay;
    },
    giveUp(error) {
      const message =
        policy === null || policy.maxAttempts === 0
          ? error.message
          : `${error.message} Gave up after ${failures} reconnect attempts.`;
      return { ...error, message, fatal: true };
    },
    timeout: createTimer(),
    retry: createTimer(),
  };
}
