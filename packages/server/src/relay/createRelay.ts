import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { answerUpgrade, serveHttp } from './http.ts';
import { type RefusalReason, RelayMetrics } from './metrics.ts';
import {
  CLOSE_TIMEOUT_MS,
  endSession,
  mirrorClose,
  newSession,
  openUpstream,
  type PipeContext,
  relayClientMessage,
  type Session,
  sendError,
  truncateReason,
} from './pipe.ts';
import { requestTarget } from './providers.ts';
import { LEASE_REFUSALS, storeHealth } from './refusals.ts';
import { type Route, relayConfig } from './relayConfig.ts';
import { verifyToken } from './sessionToken.ts';
import { memoryStore, renewLeases } from './store.ts';
import type { Relay, RelayCloseOptions, RelayOptions } from './types.ts';

export type {
  Relay,
  RelayCloseOptions,
  RelayLogEntry,
  RelayLogger,
  RelayLogLevel,
  RelayOptions,
  RelayProviderName,
} from './types.ts';

const DEFAULT_REVOCATION_SECONDS = 24 * 60 * 60;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
/** Every relay's upgrade listener: a foreign path falls through them all to a 404. */
const RELAY_LISTENERS = new WeakSet<UpgradeListener>();
/**
 * The close code a drained session gets: 1001 "going away" (RFC 6455), the WebSocket's own word
 * for a server that shuts down. Clients reconnect on it (ours does: the talk protocol's error 1001
 * arrives as an `error` message, never as a bare close code; docs/protocol.md, "Errors").
 */
const GOING_AWAY = 1001;

/**
 * A relay that keeps the API key on the server: the browser connects to the relay (PlayAI:
 * `<path>/<agentId>?token=...`; the others: the vendor's path and query, plus `token=`) with a
 * token your backend minted (`createSessionToken`); the relay checks it, takes a session lease from
 * its store, opens the vendor's socket with the vendor's credential carried the vendor's way (see
 * providers.ts), and passes everything else through unchanged and in order.
 */
export function createRelay(options: RelayOptions): Relay {
  const config = relayConfig(options);
  const { spec, dialect, maxSessionsPerToken, maxSessionsPerAgent, leaseTtlMs } = config;
  const { idleTimeoutMs, maxMessageBytes, allowedOrigins, log } = config;
  const store = options.store ?? memoryStore();
  const metrics = new RelayMetrics();
  const ctx: PipeContext = {
    dialect,
    connect: config.connect,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    apiKey: options.apiKey,
    log,
    metrics,
  };
  /** The route of each request being upgraded, for the subprotocol answer. */
  const routes = new WeakMap<IncomingMessage, Route>();
  /** Lease ids are unique across instances: this instance's random id, then the session's. */
  const instanceId = randomBytes(6).toString('base64url');

  // Messages somewhat over the cap are read so the client can be told why it is closed; `ws`
  // itself drops (1009) anything past twice the cap so a huge frame is never buffered whole.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes * 2 + 1024,
    perMessageDeflate: false,
    // Frames are passed on, not read as text (only non-audio ones are parsed): the agent service
    // checks UTF-8 on its side (1007), so checking here would only double the cost per message.
    skipUTF8Validation: true,
    // One the browser offered, never a credential (subprotocols.ts); none when it offered none.
    handleProtocols: (_offered, req) => routes.get(req)?.negotiation.echo ?? false,
  });
  /** Sessions holding a lease (relaying). */
  const sessions = new Set<Session>();
  /** Accepted sockets still waiting for the store's answer. */
  const pending = new Set<Session>();
  const releases = new Set<Promise<void>>();
  const detachers = new Set<() => void>();
  let nextSessionId = 1;
  let draining = false;
  let closing: Promise<void> | null = null;
  const { failed: storeFailed, answered: storeAnswered } = storeHealth(store.kind, metrics, log);

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

  const stopRenewing = renewLeases(
    store,
    leaseTtlMs,
    () => [...sessions].map((s) => s.lease),
    (revoked) => {
      storeAnswered();
      for (const tokenId of revoked) closeRevoked(tokenId);
    },
    (error) => storeFailed('lease renewal', error),
  );

  function closeRevoked(tokenId: string): void {
    for (const session of [...sessions, ...pending]) {
      if (session.tokenId !== tokenId) continue;
      log({
        level: 'warn',
        event: 'session-revoked',
        message: 'token revoked; session closed',
        sessionId: session.id,
        agentId: session.agentId,
      });
      sendError(ctx, session.client, 4401, 'Unauthorized: the session token was revoked', true);
      endSession(session, 'relay', 4401, 'session token revoked');
    }
  }

  function refuse(
    client: WebSocket,
    reason: RefusalReason,
    code: number,
    message: string,
    fatal: boolean,
  ): void {
    metrics.refuse(reason);
    // The socket is accepted first: a browser cannot read an HTTP refusal, only an error message and a close code.
    sendError(ctx, client, code, message, fatal);
    client.close(code, truncateReason(message));
    setTimeout(() => client.terminate(), CLOSE_TIMEOUT_MS).unref();
  }

  function releaseLease(session: Session): Promise<void> {
    if (!session.leased) return Promise.resolve();
    session.leased = false;
    const release = store
      .release(session.lease)
      .catch((error) => storeFailed('lease release', error))
      .finally(() => releases.delete(release));
    releases.add(release);
    return release;
  }

  function finish(session: Session, code: number): void {
    if (session.finished) return;
    session.finished = true;
    pending.delete(session);
    if (!sessions.delete(session)) return;
    metrics.sessionsClosed++;
    releaseLease(session);
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

  function accept(req: IncomingMessage, client: WebSocket, route: Route): void {
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const target = requestTarget(spec, route.pathTarget, route.url);
    /** The target as logs name it; '*' until (or where) none is known. */
    let agentId = typeof target === 'string' && target !== 'later' ? target : '*';
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
      refuse(client, 'origin', 4401, 'Unauthorized: this origin may not use the relay', true);
      return;
    }
    const verification = verifyToken(
      route.url.searchParams.get('token'),
      { secret: options.secret, origin },
      target === 'later' ? 'later' : { target, noun: spec.targetNoun },
    );
    if (!verification.ok) {
      log({ level: 'warn', event: 'session-refused', message: verification.reason, agentId });
      refuse(client, `token-${verification.reason}`, 4401, `Unauthorized: ${verification.message}`, true);
      return;
    }
    const { payload } = verification;
    if (target === 'later') agentId = payload.a ?? '*';
    if (config.signedUrlBase !== null && !route.url.searchParams.get('agent_id')) {
      log({ level: 'warn', event: 'session-refused', message: 'no agent_id', agentId });
      refuse(client, 'bad-request', 4400, 'Bad request: agent_id is required', true);
      return;
    }
    const id = `s${nextSessionId++}`;
    // Per-target limits: PlayAI's keys are the agent ids they always were; the others' are prefixed.
    const leaseKey = spec.name === 'playai' ? agentId : `${spec.name}:${agentId}`;
    const session = newSession(ctx, route, id, agentId, leaseKey, payload.jti, `${instanceId}:${id}`, client);
    if (target === 'later' && payload.a !== undefined) session.firstMessageTarget = payload.a;
    dialect.fromQuery?.(route.url, session);
    pending.add(session);

    // Messages that arrive while the store answers are queued, then forwarded in order.
    client.on('message', (raw, isBinary) => relayClientMessage(ctx, session, raw, isBinary, maxMessageBytes));
    client.on('close', (code, reason) => {
      session.closedBy ??= 'client';
      endSession(session, 'client', code, reason.toString());
      finish(session, code);
    });

    const nowMs = Date.now();
    store
      .acquire({
        leaseId: session.lease.leaseId,
        tokenId: payload.jti,
        agentId: leaseKey,
        maxPerToken: maxSessionsPerToken,
        maxPerAgent: maxSessionsPerAgent,
        singleUse: payload.su === 1,
        ttlMs: leaseTtlMs,
        tokenTtlMs: Math.max(1000, payload.exp * 1000 - nowMs + 60_000),
      })
      .then(
        (result) => {
          storeAnswered();
          if (session.finished || draining) {
            // The client left (or the relay began draining) while the store answered.
            if (result.ok)
              void store.release(session.lease).catch((error) => storeFailed('lease release', error));
            if (!session.finished) {
              metrics.refuse('draining');
              endSession(session, 'relay', GOING_AWAY, 'relay shutting down');
            }
            pending.delete(session);
            return;
          }
          pending.delete(session);
          if (!result.ok) {
            const refusal = LEASE_REFUSALS[result.reason];
            log({ level: 'warn', event: 'session-refused', message: result.reason, agentId });
            refuse(client, refusal.metric, refusal.code, refusal.message, refusal.fatal);
            return;
          }
          sessions.add(session);
          session.leased = true;
          metrics.sessionsOpened++;
          log({
            level: 'info',
            event: 'session-open',
            message: 'session opened',
            sessionId: session.id,
            agentId,
            provider: spec.name,
            origin: origin ?? null,
          });
          openUpstream(ctx, session);
        },
        (error: unknown) => {
          pending.delete(session);
          storeFailed('lease', error);
          if (session.finished) return;
          log({ level: 'warn', event: 'session-refused', message: 'store unavailable', agentId });
          refuse(
            client,
            'store-unavailable',
            4503,
            'Service unavailable: the relay cannot check session limits right now; try again shortly',
            false,
          );
        },
      );
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const route = config.route(req);
    if (!route) return false;
    if (draining) {
      metrics.refuse('draining');
      answerUpgrade(socket, '503 Service Unavailable', '', 'Retry-After: 1\r\n');
      return true;
    }
    if (route.negotiation.refused) {
      // Every subprotocol offered carries a credential: there is none the relay may answer with,
      // and a browser fails a handshake that answers none, so it is refused plainly.
      metrics.refuse('subprotocol');
      log({ level: 'warn', event: 'session-refused', message: 'only credential subprotocols offered' });
      answerUpgrade(
        socket,
        '400 Bad Request',
        'Every subprotocol offered carries a credential; the relay takes a session token (?token=)\n',
      );
      return true;
    }
    routes.set(req, route);
    wss.handleUpgrade(req, socket, head, (client) => accept(req, client, route));
    return true;
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return serveHttp(
      req,
      res,
      () => ({ draining, sessions: sessions.size, store: store.kind, storeAvailable: store.available }),
      options.metrics === true ? renderMetrics : null,
    );
  }

  function renderMetrics(): string {
    return metrics.render({
      provider: spec.name,
      sessionsOpen: sessions.size,
      draining,
      storeAvailable: store.available,
      store: store.kind,
    });
  }

  async function shutDown(drainMs: number): Promise<void> {
    draining = true;
    log({ level: 'info', event: 'drain', message: 'draining', sessions: sessions.size, drainMs });
    if (drainMs > 0 && sessions.size + pending.size > 0) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(done, drainMs);
        const poll = setInterval(() => {
          if (sessions.size + pending.size === 0) done();
        }, 50);
        function done() {
          clearTimeout(deadline);
          clearInterval(poll);
          resolve();
        }
      });
    }
    clearInterval(sweeper);
    // Leases first: the clients reconnect to another instance at once, and must find their token free.
    await Promise.all([...sessions].map(releaseLease));
    const open = [...sessions, ...pending].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.client.readyState === 3) resolve();
          else session.client.once('close', () => resolve());
          session.closedBy ??= 'relay';
          // Both sides see an ordinary "going away"; the browser reconnects through another instance.
          mirrorClose(session.upstream, GOING_AWAY, 'relay shutting down');
          mirrorClose(session.client, GOING_AWAY, 'relay shutting down');
        }),
    );
    await Promise.all(open);
    stopRenewing();
    await Promise.all([...releases]);
    for (const detach of [...detachers]) detach();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    // A store passed in may be shared with other relays: only the one made here is closed.
    if (!options.store) await store.close();
  }

  return {
    handleUpgrade,
    handleRequest,
    attach(server: Server) {
      const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (handleUpgrade(req, socket, head)) return;
        // Leave foreign paths to other upgrade listeners; when the others are relays too (one per
        // provider) and this is the last, answer instead of hanging.
        const all = server.listeners('upgrade');
        if (all.at(-1) === listener && all.every((l) => RELAY_LISTENERS.has(l as UpgradeListener)))
          answerUpgrade(socket, '404 Not Found');
      };
      RELAY_LISTENERS.add(listener);
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
    get draining() {
      return draining;
    },
    metrics: renderMetrics,
    async revokeToken(tokenId: string, revokeOptions: { ttlSeconds?: number } = {}) {
      if (!tokenId) throw new TypeError('revokeToken: a token id is required');
      const ttlSeconds = revokeOptions.ttlSeconds ?? DEFAULT_REVOCATION_SECONDS;
      try {
        await store.revoke(tokenId, ttlSeconds * 1000);
        storeAnswered();
      } catch (error) {
        storeFailed('revocation', error);
        throw error;
      } finally {
        // This instance's sessions close at once, even if the store could not record it.
        closeRevoked(tokenId);
      }
    },
    close(closeOptions: RelayCloseOptions = {}) {
      closing ??= shutDown(Math.max(0, closeOptions.drainMs ?? 0));
      return closing;
    },
  };
}
