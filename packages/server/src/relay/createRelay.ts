import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AudioRateLimiter, base64DecodedBytes, realTimeBytesPerSecond } from './audioRate.ts';
import { verifySessionToken } from './sessionToken.ts';

export type RelayLogLevel = 'info' | 'warn' | 'error';

/** One structured log line. It never carries the API key or a token. */
export interface RelayLogEntry {
  level: RelayLogLevel;
  event:
    | 'session-open'
    | 'session-refused'
    | 'session-close'
    | 'upstream-error'
    | 'client-error'
    | 'message-too-large'
    | 'audio-rate-exceeded'
    | 'queue-overflow';
  message: string;
  sessionId?: string;
  agentId?: string;
  [field: string]: unknown;
}

export type RelayLogger = (entry: RelayLogEntry) => void;

export interface RelayOptions {
  /** The agent service's base talk URL, e.g. `wss://api.play.ai/v1/talk` or the local agent's `ws://127.0.0.1:8787/v1/talk`. */
  upstream: string;
  /** The real API key; injected into every `setup` the browser sends. Never sent to the browser, never logged. */
  apiKey: string;
  /** The secret session tokens are signed with (shared with the backend that calls `createSessionToken`). */
  secret: string;
  /**
   * Page origins allowed to connect (`https://example.com`). When set, a request whose `Origin`
   * header is missing or not listed is refused. @defaultValue any origin
   */
  allowedOrigins?: readonly string[];
  /**
   * Concurrent sessions one token may hold. 2 by default so that a client reconnecting after a
   * network drop is not refused while the relay still holds its dead socket. @defaultValue 2
   */
  maxSessionsPerToken?: number;
  /** A session with no message in either direction for this long is closed (1000). @defaultValue 60000 */
  idleTimeoutMs?: number;
  /** Largest client message, in bytes; a larger one gets a 4400 error and a close. @defaultValue 131072 */
  maxMessageBytes?: number;
  /** The path the relay answers on; the agent id follows it. @defaultValue '/v1/talk' */
  path?: string;
  /** Milliseconds to wait for the upstream socket to open. @defaultValue 10000 */
  upstreamTimeoutMs?: number;
  /** `false` for silence, a function to receive structured entries, `true` for one JSON line per entry on the console. @defaultValue true */
  log?: boolean | RelayLogger;
}

export interface Relay {
  /**
   * Handles an HTTP upgrade if its path is the relay's (`<path>/<agentId>`); returns false and
   * leaves the socket alone otherwise, so other WebSocket endpoints can share the server.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Listens for upgrades on a Node HTTP(S) server (plain `http`, Express's `app.listen()`, Fastify's `app.server`). Returns a detach function. */
  attach(server: Server): () => void;
  /** Number of live sessions. */
  readonly sessionCount: number;
  /** Closes every session (1001 to both sides) and stops accepting; resolves when the sockets are closed. */
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 3000;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Pause reading the other side while a socket has this much unsent; resume under the low mark. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
const RATE_WARNING_INTERVAL_MS = 5000;

/** `{"type":"audioIn","data":"` — what every client's `JSON.stringify` produces; lets the hot path skip `JSON.parse`. */
const AUDIO_IN_PREFIX = Buffer.from('{"type":"audioIn","data":"');
const AUDIO_IN_SUFFIX = Buffer.from('"}');
const EQUALS = 0x3d;

interface Session {
  id: string;
  agentId: string;
  tokenId: string;
  client: WebSocket;
  upstream: WebSocket | null;
  queue: { data: Buffer; isBinary: boolean }[];
  queuedBytes: number;
  lastActivity: number;
  openedAt: number;
  limiter: AudioRateLimiter;
  droppedAudioFrames: number;
  lastRateWarning: number;
  messagesIn: number;
  messagesOut: number;
  closedBy: 'client' | 'upstream' | 'relay' | null;
  finished: boolean;
}

function consoleLogger(entry: RelayLogEntry): void {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
  if (entry.level === 'error') console.error(line);
  else if (entry.level === 'warn') console.warn(line);
  else console.log(line);
}

/** Close codes a WebSocket endpoint may send (RFC 6455 §7.4 as `ws` checks them). */
function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

function truncateReason(reason: Buffer | string): string {
  const text = typeof reason === 'string' ? reason : reason.toString('utf8');
  // A close reason is limited to 123 bytes.
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** Ends `socket` the way its peer ended: same code and reason, an empty close, or a drop. */
function mirrorClose(socket: WebSocket | null, code: number, reason: Buffer | string): void {
  if (!socket) return;
  if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
  if (
    socket.readyState === WebSocket.CONNECTING ||
    code === 1006 ||
    !(code === 1005 || isSendableCloseCode(code))
  ) {
    socket.terminate();
    return;
  }
  if (code === 1005) socket.close();
  else socket.close(code, truncateReason(reason));
  // A peer that never answers the close frame must not hold the socket for ws's 30 s default.
  setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS).unref();
}

function rawToBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * A relay that keeps the API key on the server: the browser connects to
 * `<path>/<agentId>?token=...` with a token your backend minted (`createSessionToken`); the relay
 * checks it, opens the real agent socket, injects the API key into `setup`, and passes everything
 * else through unchanged and in order.
 */
export function createRelay(options: RelayOptions): Relay {
  if (!options.upstream) throw new TypeError('createRelay: `upstream` is required');
  if (!options.apiKey) throw new TypeError('createRelay: `apiKey` is required');
  if (!options.secret) throw new TypeError('createRelay: `secret` is required');
  const upstreamBase = options.upstream.replace(/\/+$/, '');
  const path = (options.path ?? '/v1/talk').replace(/\/+$/, '');
  const maxSessionsPerToken = options.maxSessionsPerToken ?? 2;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const maxMessageBytes = options.maxMessageBytes ?? 128 * 1024;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000;
  const allowedOrigins = options.allowedOrigins ? new Set(options.allowedOrigins) : null;
  const log: RelayLogger =
    options.log === false ? () => {} : typeof options.log === 'function' ? options.log : consoleLogger;
  const apiKey = options.apiKey;

  // Messages somewhat over the cap are read so the client can be told why it is closed; `ws`
  // itself drops (1009) anything past twice the cap so a huge frame is never buffered whole.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes * 2 + 1024,
    perMessageDeflate: false,
  });
  const sessions = new Set<Session>();
  const sessionsPerToken = new Map<string, number>();
  const detachers = new Set<() => void>();
  let nextSessionId = 1;
  let closed = false;

  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const session of sessions) {
        if (now - session.lastActivity >= idleTimeoutMs) {
          log({
            level: 'info',
            event: 'session-close',
            message: 'idle timeout',
            sessionId: session.id,
            agentId: session.agentId,
          });
          endSession(session, 'relay', 1000, 'idle timeout');
        }
      }
    },
    Math.max(50, Math.min(1000, idleTimeoutMs / 4)),
  );
  sweeper.unref();

  function refuse(client: WebSocket, code: number, message: string, fatal: boolean): void {
    // The socket is accepted first: a browser cannot read an HTTP refusal, only an error message and a close code.
    client.send(JSON.stringify({ type: 'error', code, message, isFatal: fatal }));
    client.close(code, truncateReason(message));
    setTimeout(() => client.terminate(), CLOSE_TIMEOUT_MS).unref();
  }

  function endSession(
    session: Session,
    by: 'client' | 'upstream' | 'relay',
    code: number,
    reason: string,
  ): void {
    session.closedBy ??= by;
    mirrorClose(session.client, code, reason);
    mirrorClose(session.upstream, code, reason);
  }

  function finish(session: Session, code: number): void {
    if (session.finished) return;
    session.finished = true;
    sessions.delete(session);
    const count = (sessionsPerToken.get(session.tokenId) ?? 1) - 1;
    if (count <= 0) sessionsPerToken.delete(session.tokenId);
    else sessionsPerToken.set(session.tokenId, count);
    log({
      level: 'info',
      event: 'session-close',
      message: 'session closed',
      sessionId: session.id,
      agentId: session.agentId,
      closedBy: session.closedBy ?? 'client',
      code,
      durationMs: Math.round(performance.now() - session.openedAt),
      messagesIn: session.messagesIn,
      messagesOut: session.messagesOut,
      droppedAudioFrames: session.droppedAudioFrames,
    });
  }

  function sendUpstream(session: Session, data: Buffer, isBinary: boolean): void {
    const upstream = session.upstream;
    if (upstream && upstream.readyState === WebSocket.OPEN && session.queue.length === 0) {
      forward(upstream, session.client, data, isBinary);
      return;
    }
    if (session.queuedBytes + data.length > MAX_QUEUED_BYTES) {
      log({
        level: 'warn',
        event: 'queue-overflow',
        message: 'upstream not open and the queue is full; message dropped',
        sessionId: session.id,
        agentId: session.agentId,
      });
      return;
    }
    session.queue.push({ data, isBinary });
    session.queuedBytes += data.length;
  }

  /** Sends to `to`; while `to` has a backlog, stops reading `from` so memory stays bounded end to end. */
  function forward(to: WebSocket, from: WebSocket, data: Buffer, isBinary: boolean): void {
    if (to.bufferedAmount < HIGH_WATER_BYTES) {
      to.send(data, { binary: isBinary });
      return;
    }
    from.pause();
    to.send(data, { binary: isBinary }, () => {
      if (to.bufferedAmount < LOW_WATER_BYTES && from.isPaused && from.readyState === WebSocket.OPEN)
        from.resume();
    });
  }

  /** Returns the message to forward (the setup with the real key injected), or null to drop it. */
  function inspectClientMessage(session: Session, data: Buffer): Buffer | null {
    // Hot path: a plain `audioIn` frame, sized without parsing it.
    if (
      data.length >= AUDIO_IN_PREFIX.length + AUDIO_IN_SUFFIX.length &&
      data.compare(AUDIO_IN_PREFIX, 0, AUDIO_IN_PREFIX.length, 0, AUDIO_IN_PREFIX.length) === 0 &&
      data.compare(AUDIO_IN_SUFFIX, 0, 2, data.length - 2, data.length) === 0
    ) {
      const length = data.length - AUDIO_IN_PREFIX.length - AUDIO_IN_SUFFIX.length;
      const end = data.length - 2;
      const bytes = base64DecodedBytes(
        length,
        data[end - 1] === EQUALS && data[end - 2] === EQUALS,
        data[end - 1] === EQUALS,
      );
      return admitAudio(session, bytes) ? data : null;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      // Not ours to judge: the agent answers malformed input with its own 4400.
      return data;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return data;
    const fields = message as Record<string, unknown>;
    if (fields.type === 'setup') {
      session.limiter.setRealTimeRate(realTimeBytesPerSecond(fields.inputEncoding, fields.inputSampleRate));
      // Whatever the browser put there is replaced: the browser never holds the real key.
      return Buffer.from(JSON.stringify({ ...fields, apiKey }));
    }
    if (fields.type === 'audioIn' && typeof fields.data === 'string') {
      const b64 = fields.data;
      const bytes = base64DecodedBytes(b64.length, b64.endsWith('=='), b64.endsWith('='));
      return admitAudio(session, bytes) ? data : null;
    }
    return data;
  }

  function admitAudio(session: Session, bytes: number): boolean {
    if (session.limiter.take(bytes)) return true;
    session.droppedAudioFrames++;
    const now = performance.now();
    if (now - session.lastRateWarning >= RATE_WARNING_INTERVAL_MS) {
      session.lastRateWarning = now;
      log({
        level: 'warn',
        event: 'audio-rate-exceeded',
        message: 'audioIn faster than twice real time; frames dropped',
        sessionId: session.id,
        agentId: session.agentId,
        droppedAudioFrames: session.droppedAudioFrames,
      });
    }
    return false;
  }

  function openUpstream(session: Session): void {
    const upstream = new WebSocket(`${upstreamBase}/${encodeURIComponent(session.agentId)}`, {
      perMessageDeflate: false,
      handshakeTimeout: upstreamTimeoutMs,
    });
    session.upstream = upstream;
    let opened = false;
    let failed = false;

    const failBeforeOpen = (detail: string) => {
      if (opened || failed) return;
      failed = true;
      // The client left first and its close aborted this handshake: nothing to report.
      if (session.client.readyState !== WebSocket.OPEN) return;
      log({
        level: 'error',
        event: 'upstream-error',
        message: detail,
        sessionId: session.id,
        agentId: session.agentId,
      });
      session.client.send(
        JSON.stringify({
          type: 'error',
          code: 4500,
          message: 'The agent service is unreachable',
          isFatal: false,
        }),
      );
      session.closedBy ??= 'upstream';
      mirrorClose(session.client, 1011, 'agent service unreachable');
    };

    upstream.on('open', () => {
      opened = true;
      for (const item of session.queue) forward(upstream, session.client, item.data, item.isBinary);
      session.queue = [];
      session.queuedBytes = 0;
    });
    upstream.on('unexpected-response', (_req, res) => {
      failBeforeOpen(`upstream refused the upgrade with HTTP ${res.statusCode}`);
      res.resume();
      upstream.terminate();
    });
    upstream.on('error', (error) => {
      if (!opened) failBeforeOpen(`upstream connection failed: ${error.message}`);
      else
        log({
          level: 'warn',
          event: 'upstream-error',
          message: error.message,
          sessionId: session.id,
          agentId: session.agentId,
        });
    });
    upstream.on('message', (data, isBinary) => {
      session.lastActivity = performance.now();
      session.messagesOut++;
      if (session.client.readyState === WebSocket.OPEN)
        forward(session.client, upstream, rawToBuffer(data), isBinary);
    });
    upstream.on('close', (code, reason) => {
      if (!opened) {
        failBeforeOpen('upstream closed before opening');
        return;
      }
      session.closedBy ??= 'upstream';
      mirrorClose(session.client, code, reason);
    });
  }

  function accept(req: IncomingMessage, client: WebSocket, agentId: string): void {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    client.on('error', (error) =>
      log({ level: 'warn', event: 'client-error', message: error.message, agentId }),
    );

    if (allowedOrigins && (origin === undefined || !allowedOrigins.has(origin))) {
      log({
        level: 'warn',
        event: 'session-refused',
        message: 'origin not allowed',
        agentId,
        origin: origin ?? null,
      });
      refuse(client, 4401, 'Unauthorized: this origin may not use the relay', true);
      return;
    }
    const verification = verifySessionToken(url.searchParams.get('token'), {
      secret: options.secret,
      agentId,
      origin,
    });
    if (!verification.ok) {
      log({ level: 'warn', event: 'session-refused', message: verification.reason, agentId });
      refuse(client, 4401, `Unauthorized: ${verification.message}`, true);
      return;
    }
    const tokenId = verification.payload.jti;
    const held = sessionsPerToken.get(tokenId) ?? 0;
    if (held >= maxSessionsPerToken) {
      log({ level: 'warn', event: 'session-refused', message: 'too many sessions for this token', agentId });
      refuse(client, 4429, 'Too many concurrent sessions for this token', false);
      return;
    }
    sessionsPerToken.set(tokenId, held + 1);

    const now = performance.now();
    const session: Session = {
      id: `s${nextSessionId++}`,
      agentId,
      tokenId,
      client,
      upstream: null,
      queue: [],
      queuedBytes: 0,
      lastActivity: now,
      openedAt: now,
      limiter: new AudioRateLimiter(realTimeBytesPerSecond(undefined, undefined), 2, 1, now),
      droppedAudioFrames: 0,
      lastRateWarning: Number.NEGATIVE_INFINITY,
      messagesIn: 0,
      messagesOut: 0,
      closedBy: null,
      finished: false,
    };
    sessions.add(session);
    log({
      level: 'info',
      event: 'session-open',
      message: 'session opened',
      sessionId: session.id,
      agentId,
      origin: origin ?? null,
    });

    client.on('message', (raw, isBinary) => {
      session.lastActivity = performance.now();
      session.messagesIn++;
      const data = rawToBuffer(raw);
      if (data.length > maxMessageBytes) {
        log({
          level: 'warn',
          event: 'message-too-large',
          message: `client message of ${data.length} bytes over the ${maxMessageBytes}-byte limit`,
          sessionId: session.id,
          agentId,
        });
        client.send(
          JSON.stringify({
            type: 'error',
            code: 4400,
            message: `Message of ${data.length} bytes exceeds the relay's limit of ${maxMessageBytes} bytes`,
            isFatal: true,
          }),
        );
        endSession(session, 'relay', 4400, 'message too large');
        return;
      }
      const forwarded = isBinary ? data : inspectClientMessage(session, data);
      if (forwarded) sendUpstream(session, forwarded, isBinary);
    });
    client.on('close', (code, reason) => {
      session.closedBy ??= 'client';
      mirrorClose(session.upstream, code, reason);
      finish(session, code);
    });

    openUpstream(session);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!pathname.startsWith(`${path}/`)) return false;
    const segment = pathname.slice(path.length + 1);
    let agentId: string;
    try {
      agentId = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (!agentId || agentId.includes('/')) return false;
    if (closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    wss.handleUpgrade(req, socket, head, (client) => accept(req, client, agentId));
    return true;
  }

  return {
    handleUpgrade,
    attach(server: Server) {
      const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (handleUpgrade(req, socket, head)) return;
        // Leave foreign paths to other upgrade listeners; with none, answer instead of hanging.
        if (server.listenerCount('upgrade') <= 1) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        }
      };
      server.on('upgrade', listener);
      const detach = () => {
        server.off('upgrade', listener);
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      for (const detach of [...detachers]) detach();
      const pending = [...sessions].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.client.readyState === WebSocket.CLOSED) resolve();
            else session.client.once('close', () => resolve());
            endSession(session, 'relay', 1001, 'relay shutting down');
          }),
      );
      await Promise.all(pending);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
