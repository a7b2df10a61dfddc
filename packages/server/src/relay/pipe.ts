/**
 * One relayed session's two sockets: forwarding in order with back-pressure, the `setup` key
 * injection, the audio rate cap, and closing one side the way the other ended.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { AudioRateLimiter, base64DecodedBytes, realTimeBytesPerSecond } from './audioRate.ts';
import type { RelayMetrics } from './metrics.ts';
import type { Lease } from './store.ts';
import type { RelayLogger } from './types.ts';

export const CLOSE_TIMEOUT_MS = 3000;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Pause reading the other side while a socket has this much unsent; resume under the low mark. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
const RATE_WARNING_INTERVAL_MS = 5000;

/** `{"type":"audioIn","data":"` — what every client's `JSON.stringify` produces; lets the hot path skip `JSON.parse`. */
const AUDIO_IN_PREFIX = Buffer.from('{"type":"audioIn","data":"');
const AUDIO_IN_SUFFIX = Buffer.from('"}');
const EQUALS = 0x3d;

export interface Session {
  id: string;
  agentId: string;
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
  limiter: AudioRateLimiter;
  droppedAudioFrames: number;
  lastRateWarning: number;
  messagesIn: number;
  messagesOut: number;
  closedBy: 'client' | 'upstream' | 'relay' | null;
  finished: boolean;
}

export interface PipeContext {
  upstreamBase: string;
  upstreamTimeoutMs: number;
  apiKey: string;
  log: RelayLogger;
  metrics: RelayMetrics;
}

export function newSession(
  id: string,
  agentId: string,
  tokenId: string,
  leaseId: string,
  client: WebSocket,
): Session {
  const now = performance.now();
  return {
    id,
    agentId,
    tokenId,
    lease: { leaseId, tokenId, agentId },
    leased: false,
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

/** Returns the message to forward (the setup with the real key injected), or null to drop it. */
export function inspectClientMessage(ctx: PipeContext, session: Session, data: Buffer): Buffer | null {
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
    return admitAudio(ctx, session, bytes) ? data : null;
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
    return Buffer.from(JSON.stringify({ ...fields, apiKey: ctx.apiKey }));
  }
  if (fields.type === 'audioIn' && typeof fields.data === 'string') {
    const b64 = fields.data;
    const bytes = base64DecodedBytes(b64.length, b64.endsWith('=='), b64.endsWith('='));
    return admitAudio(ctx, session, bytes) ? data : null;
  }
  return data;
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
      message: 'audioIn faster than twice real time; frames dropped',
      sessionId: session.id,
      agentId: session.agentId,
      droppedAudioFrames: session.droppedAudioFrames,
    });
  }
  return false;
}

/** Opens the agent service's socket for `session` and wires it to the client's. */
export function openUpstream(ctx: PipeContext, session: Session): void {
  const started = performance.now();
  const upstream = new WebSocket(`${ctx.upstreamBase}/${encodeURIComponent(session.agentId)}`, {
    perMessageDeflate: false,
    handshakeTimeout: ctx.upstreamTimeoutMs,
    // Passed on to the browser, which checks UTF-8 itself (see the relay's own server socket).
    skipUTF8Validation: true,
  });
  session.upstream = upstream;
  let opened = false;
  let failed = false;

  const failBeforeOpen = (detail: string) => {
    if (opened || failed) return;
    failed = true;
    // The client left first and its close aborted this handshake: nothing to report.
    if (session.client.readyState !== WebSocket.OPEN) return;
    ctx.metrics.upstreamFailures++;
    ctx.log({
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
    ctx.metrics.observeUpstreamConnect((performance.now() - started) / 1000);
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
    session.client.send(
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
  const forwarded = isBinary ? data : inspectClientMessage(ctx, session, data);
  if (forwarded) sendUpstream(ctx, session, forwarded, isBinary);
}
