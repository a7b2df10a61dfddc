/**
 * One relayed session's two sockets: forwarding in order with back-pressure, the dialect's look at
 * client messages (audio rate cap, PlayAI's key injection, Gemini's first message), and closing
 * one side the way the other ended.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { AudioRateLimiter } from './audioRate.ts';
import type { AudioAccount, RelayDialect } from './dialects.ts';
import type { RelayMetrics } from './metrics.ts';
import type { UpstreamRequest } from './providers.ts';
import type { Route } from './relayConfig.ts';
import type { Lease } from './store.ts';
import type { RelayLogger } from './types.ts';

export const CLOSE_TIMEOUT_MS = 3000;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Pause reading the other side while a socket has this much unsent; resume under the low mark. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
const RATE_WARNING_INTERVAL_MS = 5000;

export interface Session extends AudioAccount {
  id: string;
  /** The session's target (agent id, model, config id; `*` where none is known): in logs as `agentId`. */
  agentId: string;
  /** The browser's request: what the upstream request is made from. */
  route: Route;
  tokenId: string;
  lease: Lease;
  /** The store granted the lease (and it must be released at the end). */
  leased: boolean;
  client: WebSocket;
  upstream: WebSocket | null;
  queue: { data: Buffer; isBinary: boolean }[];
  queuedBytes: number;
  lastActivity: number;
  openedAt: number;
  droppedAudioFrames: number;
  /** The token's target, still to be checked against the first client message (Gemini's model). */
  firstMessageTarget: string | null;
  /** The first upstream message is still to be shown to the dialect (ElevenLabs' input format). */
  watchFirstUpstream: boolean;
  lastRateWarning: number;
  messagesIn: number;
  messagesOut: number;
  closedBy: 'client' | 'upstream' | 'relay' | null;
  finished: boolean;
}

export interface PipeContext {
  dialect: RelayDialect;
  /** Where and how to connect upstream for a route (ElevenLabs' signed URL is fetched first). */
  connect(route: Route, signal: AbortSignal): UpstreamRequest | Promise<UpstreamRequest>;
  upstreamTimeoutMs: number;
  apiKey: string;
  log: RelayLogger;
  metrics: RelayMetrics;
}

export function newSession(
  ctx: PipeContext,
  route: Route,
  id: string,
  agentId: string,
  leaseKey: string,
  tokenId: string,
  leaseId: string,
  client: WebSocket,
): Session {
  const now = performance.now();
  const rate = ctx.dialect.initialRate;
  return {
    id,
    agentId,
    route,
    tokenId,
    lease: { leaseId, tokenId, agentId: leaseKey },
    leased: false,
    client,
    upstream: null,
    queue: [],
    queuedBytes: 0,
    lastActivity: now,
    openedAt: now,
    limiter: new AudioRateLimiter(rate, 2, 1, now),
    realTimeRate: rate,
    audioTail: null,
    droppedAudioFrames: 0,
    firstMessageTarget: null,
    watchFirstUpstream: ctx.dialect.firstUpstream !== undefined,
    lastRateWarning: Number.NEGATIVE_INFINITY,
    messagesIn: 0,
    messagesOut: 0,
    closedBy: null,
    finished: false,
  };
}

/** Close codes a WebSocket endpoint may send (RFC 6455 §7.4 as `ws` checks them). */
function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

export function truncateReason(reason: Buffer | string): string {
  const text = typeof reason === 'string' ? reason : reason.toString('utf8');
  // A close reason is limited to 123 bytes.
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** Ends `socket` the way its peer ended: same code and reason, an empty close, or a drop. */
export function mirrorClose(socket: WebSocket | null, code: number, reason: Buffer | string): void {
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

export function rawToBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Ends both sides of a session with `code`. */
export function endSession(
  session: Session,
  by: 'client' | 'upstream' | 'relay',
  code: number,
  reason: string,
): void {
  session.closedBy ??= by;
  mirrorClose(session.client, code, reason);
  mirrorClose(session.upstream, code, reason);
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

/** Forwards a client message, or queues it while the upstream socket is not open yet. */
export function sendUpstream(ctx: PipeContext, session: Session, data: Buffer, isBinary: boolean): void {
  const upstream = session.upstream;
  if (upstream && upstream.readyState === WebSocket.OPEN && session.queue.length === 0) {
    forward(upstream, session.client, data, isBinary);
    return;
  }
  if (session.queuedBytes + data.length > MAX_QUEUED_BYTES) {
    ctx.log({
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

/**
 * Returns the message to forward (PlayAI's setup with the real key), or null to drop it (audio
 * over the cap).
 */
export function inspectClientMessage(ctx: PipeContext, session: Session, data: Buffer): Buffer | null {
  const { dialect } = ctx;
  // Hot path: an audio frame in the form clients write it, sized without parsing it.
  const audio = dialect.audioBytes(data, session);
  if (audio >= 0) return admitAudio(ctx, session, audio) ? data : null;
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch {
    // Not ours to judge: the agent answers malformed input itself.
    return data;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return data;
  const fields = message as Record<string, unknown>;
  const bytes = dialect.inspect(fields, session);
  if (bytes > 0) return admitAudio(ctx, session, bytes) ? data : null;
  return dialect.rewrite?.(fields, ctx.apiKey) ?? data;
}

/**
 * Gemini names its model in the first message: a token bound to another model ends the session
 * (4401) before anything reaches the vendor. True when the message may go on.
 */
function firstMessageAllowed(ctx: PipeContext, session: Session, data: Buffer, isBinary: boolean): boolean {
  const bound = session.firstMessageTarget as string;
  session.firstMessageTarget = null;
  let named: string | undefined;
  if (!isBinary) {
    try {
      const fields: unknown = JSON.parse(data.toString('utf8'));
      if (typeof fields === 'object' && fields !== null)
        named = ctx.dialect.firstMessageTarget?.(fields as Record<string, unknown>);
    } catch {}
  }
  const same = ctx.dialect.sameTarget ?? ((a: string, b: string) => a === b);
  if (named !== undefined && same(named, bound)) {
    session.agentId = named;
    return true;
  }
  ctx.metrics.refuse('token-wrong-agent');
  const message = 'Unauthorized: The session token is for another model';
  ctx.log({
    level: 'warn',
    event: 'session-refused',
    message: 'wrong-agent',
    sessionId: session.id,
    agentId: session.agentId,
  });
  sendError(ctx, session.client, 4401, message, true);
  endSession(session, 'relay', 4401, message);
  return false;
}

/** Tells the browser in the vendor's words, where the vendor has an error message. */
export function sendError(
  ctx: PipeContext,
  client: WebSocket,
  code: number,
  message: string,
  fatal: boolean,
): void {
  const frame = ctx.dialect.errorFrame(code, message, fatal);
  if (frame !== null && client.readyState === WebSocket.OPEN) client.send(frame);
}

function admitAudio(ctx: PipeContext, session: Session, bytes: number): boolean {
  if (session.limiter.take(bytes)) return true;
  session.droppedAudioFrames++;
  ctx.metrics.audioFramesDropped++;
  const now = performance.now();
  if (now - session.lastRateWarning >= RATE_WARNING_INTERVAL_MS) {
    session.lastRateWarning = now;
    ctx.log({
      level: 'warn',
      event: 'audio-rate-exceeded',
      message: 'audio faster than twice real time; frames dropped',
      sessionId: session.id,
      agentId: session.agentId,
      droppedAudioFrames: session.droppedAudioFrames,
    });
  }
  return false;
}

/**
 * Error texts do not carry the key, but a URL some carry may hold it in its query (Gemini's `key`,
 * Hume's `api_key`): as given, and as a query spells it.
 */
function redactKey(text: string, key: string): string {
  let out = text;
  for (const form of [key, encodeURIComponent(key), new URLSearchParams({ k: key }).toString().slice(2)])
    out = out.split(form).join('***');
  return out;
}

/** Opens the agent service's socket for `session` and wires it to the client's. */
export function openUpstream(ctx: PipeContext, session: Session): void {
  const started = performance.now();
  let failed = false;
  const failBeforeOpen = (detail: string) => {
    if (failed) return;
    failed = true;
    // The client left first and its close aborted this handshake: nothing to report.
    if (session.client.readyState !== WebSocket.OPEN) return;
    ctx.metrics.upstreamFailures++;
    ctx.log({
      level: 'error',
      event: 'upstream-error',
      message: redactKey(detail, ctx.apiKey),
      sessionId: session.id,
      agentId: session.agentId,
    });
    sendError(ctx, session.client, 4500, 'The agent service is unreachable', false);
    session.closedBy ??= 'upstream';
    mirrorClose(session.client, 1011, 'agent service unreachable');
  };
  const abort = new AbortController();
  const request = (() => {
    try {
      return ctx.connect(session.route, abort.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  })();
  if (!(request instanceof Promise)) {
    connectUpstream(ctx, session, request, started, failBeforeOpen);
    return;
  }
  // The request is prepared asynchronously (a signed URL): the client may leave meanwhile.
  const onClientClose = () => abort.abort();
  session.client.once('close', onClientClose);
  const timer = setTimeout(() => abort.abort(), ctx.upstreamTimeoutMs);
  timer.unref();
  request.then(
    (ready) => {
      clearTimeout(timer);
      session.client.off('close', onClientClose);
      if (session.finished || session.client.readyState !== WebSocket.OPEN) return;
      connectUpstream(ctx, session, ready, started, failBeforeOpen);
    },
    (error: unknown) => {
      clearTimeout(timer);
      session.client.off('close', onClientClose);
      failBeforeOpen(abort.signal.aborted ? 'upstream request timed out' : (error as Error).message);
    },
  );
}

function connectUpstream(
  ctx: PipeContext,
  session: Session,
  request: UpstreamRequest,
  started: number,
  failBeforeOpen: (detail: string) => void,
): void {
  let upstream: WebSocket;
  try {
    upstream = new WebSocket(request.url, request.protocols.length > 0 ? request.protocols : undefined, {
      headers: request.headers,
      perMessageDeflate: false,
      handshakeTimeout: ctx.upstreamTimeoutMs,
      // Passed on to the browser, which checks UTF-8 itself (see the relay's own server socket).
      skipUTF8Validation: true,
    });
  } catch (error) {
    // A URL `ws` will not take (a vendor's signed URL, say): the session cannot go anywhere.
    failBeforeOpen(`upstream URL refused: ${(error as Error).message}`);
    return;
  }
  session.upstream = upstream;
  let opened = false;

  upstream.on('open', () => {
    opened = true;
    ctx.metrics.observeUpstreamConnect((performance.now() - started) / 1000);
    for (const item of session.queue) forward(upstream, session.client, item.data, item.isBinary);
    session.queue = [];
    session.queuedBytes = 0;
  });
  upstream.on('unexpected-response', (_req, res) => {
    if (!opened) failBeforeOpen(`upstream refused the upgrade with HTTP ${res.statusCode}`);
    res.resume();
    upstream.terminate();
  });
  upstream.on('error', (error) => {
    if (!opened) failBeforeOpen(`upstream connection failed: ${error.message}`);
    else
      ctx.log({
        level: 'warn',
        event: 'upstream-error',
        message: error.message,
        sessionId: session.id,
        agentId: session.agentId,
      });
  });
  upstream.on('message', (raw, isBinary) => {
    session.lastActivity = performance.now();
    session.messagesOut++;
    const data = rawToBuffer(raw);
    ctx.metrics.framesToClient++;
    ctx.metrics.bytesToClient += data.length;
    if (session.watchFirstUpstream) {
      session.watchFirstUpstream = false;
      if (!isBinary) ctx.dialect.firstUpstream?.(data, session);
    }
    if (session.client.readyState === WebSocket.OPEN) forward(session.client, upstream, data, isBinary);
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

/** A message from the browser: counted, size-checked, inspected, then forwarded (or queued). */
export function relayClientMessage(
  ctx: PipeContext,
  session: Session,
  raw: WebSocket.RawData,
  isBinary: boolean,
  maxMessageBytes: number,
): void {
  session.lastActivity = performance.now();
  session.messagesIn++;
  const data = rawToBuffer(raw);
  ctx.metrics.framesFromClient++;
  ctx.metrics.bytesFromClient += data.length;
  if (data.length > maxMessageBytes) {
    ctx.log({
      level: 'warn',
      event: 'message-too-large',
      message: `client message of ${data.length} bytes over the ${maxMessageBytes}-byte limit`,
      sessionId: session.id,
      agentId: session.agentId,
    });
    sendError(
      ctx,
      session.client,
      4400,
      `Message of ${data.length} bytes exceeds the relay's limit of ${maxMessageBytes} bytes`,
      true,
    );
    endSession(session, 'relay', 4400, 'message too large');
    return;
  }
  if (session.firstMessageTarget !== null && !firstMessageAllowed(ctx, session, data, isBinary)) return;
  let forwarded: Buffer | null = data;
  if (!isBinary) forwarded = inspectClientMessage(ctx, session, data);
  else if (ctx.dialect.binaryIsAudio && !admitAudio(ctx, session, data.length)) forwarded = null;
  if (forwarded) sendUpstream(ctx, session, forwarded, isBinary);
}
