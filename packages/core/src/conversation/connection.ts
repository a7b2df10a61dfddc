import type { CloseDecision, OutgoingFrame, ProviderError, ProviderSocket } from '../providers/types.ts';
import { errorText, fatalError } from './conversationError.ts';
import { type ResolvedReconnectPolicy, reconnectDelayMs } from './reconnectPolicy.ts';
import type { ConversationHost, Run } from './run.ts';
import { callAsync, guard, noop, safely } from './safely.ts';
import { createTimer, type Timer } from './time.ts';
import type { ConversationError, DisconnectReason } from './types.ts';

/*
 * A run's connection: each attempt (a token, the provider's socket, its opening frames, the
 * server's `ready`), what a close or a server error means (end, fail, or reconnect after the
 * policy's backoff: the provider decides, the connection acts), keepalive, and the timers. No
 * wire message is named here: the provider's socket (providers/types.ts) knows them.
 */

/** One connection attempt: a fresh token when `getToken` is given, then the socket. */
export function connect(host: ConversationHost, current: Run): void {
  const attempt = current.attempts.begin();
  // The timeout covers the whole attempt: the token, the socket opening and the server's answer.
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
  const WebSocketImpl =
    current.options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (WebSocketImpl === undefined) {
    host.fail(current, fatalError('unsupported', 'This browser has no WebSocket.'));
    return;
  }
  const session = current.session;
  if (session === null) return;
  try {
    const socket = session.socket(
      { apiKey: current.options.apiKey, token },
      current.conversationId ?? undefined,
    );
    const conn: Connection = openConnection(WebSocketImpl, socket, {
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
  for (const frame of conn.socket.opened()) if (!current.uplink.send(conn, frame)) return;
  conn.opened = true;
  if (conn.socket.audioBeforeReady) current.uplink.flush(conn);
}

/**
 * The server answered the opening on `conn` (the provider's `ready`): the attempt succeeded.
 * True for the socket's first answer.
 */
export function connected(current: Run, conn: Connection): boolean {
  current.attempts.timeout.clear();
  const first = !conn.ready;
  conn.ready = true;
  current.attempts.connected();
  if (first) {
    current.uplink.flush(conn);
    startKeepAlive(current, conn);
  }
  return first;
}

/** The client shows it is alive as often as the provider asks (Deepgram's `KeepAlive`). */
function startKeepAlive(current: Run, conn: Connection): void {
  const { keepAliveMs } = conn.socket;
  const frame = conn.socket.keepAlive;
  if (keepAliveMs === undefined || frame === undefined || !(keepAliveMs > 0)) return;
  const tick = (): void => {
    if (current.conn !== conn || current.ended) return;
    safely(() => current.uplink.send(conn, frame.call(conn.socket)));
    conn.keepAlive.start(keepAliveMs, tick);
  };
  conn.keepAlive.start(keepAliveMs, tick);
}

function onConnectTimeout(host: ConversationHost, current: Run, attempt: number): void {
  if (current.ended || !current.attempts.isCurrent(attempt) || current.conn?.ready === true) return;
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
  conn.keepAlive.clear();
  current.attempts.timeout.clear();
  const closeCode = typeof code === 'number' ? code : undefined;
  let decision: CloseDecision;
  try {
    decision = conn.socket.closed(closeCode, reason ?? '', current.attempts.everConnected);
  } catch (error) {
    decision = { action: 'reconnect', error: { kind: 'network', message: errorText(error), fatal: false } };
  }
  if (decision.action === 'fail') {
    const error = { ...decision.error, fatal: true };
    host.fail(current, error, withCode({ by: byFor(error), error }, closeCode));
  } else if (decision.action === 'end') {
    // Over: what the agent already said plays to its end first (nothing left: at once).
    const reason: DisconnectReason =
      decision.error === undefined
        ? { by: 'agent' }
        : { by: byFor(decision.error), error: { ...decision.error, fatal: true } };
    host.drainThenEnd(current, withCode(reason, closeCode));
  } else {
    reconnect(host, current, { ...decision.error, fatal: false }, closeCode, decision.reported === true);
  }
}

/**
 * A server error the provider decoded: `continue` reports it and goes on; `reconnect` ends this
 * socket and tries a new one at once (the server said this session is over but another may
 * work); `fail` ends the conversation.
 */
export function onServerError(
  host: ConversationHost,
  current: Run,
  error: ProviderError,
  outcome: 'continue' | 'reconnect' | 'fail',
): void {
  if (outcome === 'fail') {
    host.fail(current, { ...error, fatal: true });
    return;
  }
  const soft = { ...error, fatal: false };
  host.events.emit('error', soft);
  if (outcome === 'reconnect' && !current.ended) {
    dropSocket(current);
    reconnect(host, current, soft, undefined, true);
  }
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
    host.fail(current, fatal, withCode({ by: byFor(error), error: fatal }, closeCode));
    return;
  }
  current.stats.totals.reconnects += 1;
  host.lost(current, error);
  if (!reported) host.events.emit('error', error);
  current.attempts.retry.start(delay, () => {
    if (!host.stale(current)) connect(host, current);
  });
}

function byFor(error: ConversationError): DisconnectReason['by'] {
  return error.kind === 'network' || error.kind === 'timeout' ? 'network' : 'error';
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
// Socket primitives

const WS_CONNECTING = 0;
const WS_OPEN = 1;
const NORMAL_CLOSURE = 1000;

/** One socket of a run; a run's sockets come and go as it reconnects. */
export interface Connection {
  readonly ws: WebSocket;
  /** The provider's side of this socket: its URL, frames in and out, what its close means. */
  readonly socket: ProviderSocket;
  /** The opening frames were sent. */
  opened: boolean;
  /** The server answered the opening (`ready`). */
  ready: boolean;
  readonly keepAlive: Timer;
}

interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/** Open a socket and wire its events; throws what the WebSocket constructor throws (a bad URL). */
function openConnection(
  WebSocketImpl: typeof WebSocket,
  socket: ProviderSocket,
  handlers: SocketHandlers,
): Connection {
  const ws =
    socket.protocols === undefined
      ? new WebSocketImpl(socket.url)
      : new WebSocketImpl(socket.url, socket.protocols);
  // Binary frames (Deepgram's audio) arrive as ArrayBuffers, decoded without a Blob round trip.
  safely(() => {
    ws.binaryType = 'arraybuffer';
  });
  ws.onopen = () => handlers.open();
  ws.onmessage = (event: MessageEvent) => handlers.message(event.data);
  ws.onclose = (event: CloseEvent) => handlers.close(event.code, event.reason);
  // A failed socket always closes afterwards; the close event carries what there is to know.
  ws.onerror = noop;
  return { ws, socket, opened: false, ready: false, keepAlive: createTimer() };
}

/** Detach every handler (its close must not be handled again) and close it. */
function closeConnection(conn: Connection): void {
  const { ws } = conn;
  conn.keepAlive.clear();
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  if (ws.readyState === WS_OPEN || ws.readyState === WS_CONNECTING) safely(() => ws.close(NORMAL_CLOSURE));
}

export function isOpen(conn: Connection | null): conn is Connection {
  return conn !== null && conn.ws.readyState === WS_OPEN;
}

/** Send a frame; false when the socket is not open or refuses it. */
export function sendFrame(conn: Connection, frame: OutgoingFrame): boolean {
  if (!isOpen(conn)) return false;
  try {
    conn.ws.send(frame);
  } catch {
    return false;
  }
  return true;
}

function withCode(reason: DisconnectReason, closeCode: number | undefined): DisconnectReason {
  return closeCode === undefined ? reason : { ...reason, closeCode };
}

/**
 * The connection attempts of one run: which attempt is current, the failures since the last
 * `ready`, the backoff before the next, and the two timers (the attempt's timeout, the wait
 * before a reconnect).
 */
export interface Attempts {
  /** Starts an attempt and returns its id: a token or timer of an older one is then ignored. */
  begin(): number;
  isCurrent(id: number): boolean;
  /** The server answered (`ready`): the failure count starts over. */
  connected(): void;
  readonly everConnected: boolean;
  /** Counts a failure and returns the wait before the next attempt; null when the policy gives up. */
  nextDelayMs(): number | null;
  /** The error to end with when the policy gives up after `error`. */
  giveUp(error: ConversationError): ConversationError;
  /** Covers one attempt: the token, the socket opening and the server's answer. */
  readonly timeout: Timer;
  /** The wait before the next attempt. */
  readonly retry: Timer;
}

export function createAttempts(policy: ResolvedReconnectPolicy | null): Attempts {
  let id = 0;
  /** Failed reconnect attempts since the last `ready`. */
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
