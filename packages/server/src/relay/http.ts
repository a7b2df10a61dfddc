import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers an upgrade with a plain HTTP status and closes the socket (the handshake fails). */
export function answerUpgrade(socket: Duplex, status: string, body = '', headers = ''): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\n${headers}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export interface HealthState {
  draining: boolean;
  sessions: number;
  store: string;
  storeAvailable: boolean;
}

/**
 * `GET /health` (and `/healthz`): 200 while the instance accepts sessions, 503 once it drains, so a
 * load balancer stops sending it new connections. A store outage does not turn it unhealthy: every
 * instance shares the store, so moving traffic would not help (new sessions get a clear 4503).
 * `GET /metrics` when `metrics` is given. False for any other request.
 */
export function serveHttp(
  req: IncomingMessage,
  res: ServerResponse,
  health: () => HealthState,
  metrics: (() => string) | null,
): boolean {
  const pathname = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const head = req.method === 'HEAD';
  if (pathname === '/health' || pathname === '/healthz') {
    const state = health();
    res
      .writeHead(state.draining ? 503 : 200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      })
      .end(head ? undefined : JSON.stringify({ status: state.draining ? 'draining' : 'ok', ...state }));
    return true;
  }
  if (pathname === '/metrics' && metrics) {
    res
      .writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(head ? undefined : metrics());
    return true;
  }
  return false;
}
