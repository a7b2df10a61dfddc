import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RefusalReason } from './metrics.ts';
import type { LeaseRefusal } from './store.ts';
import type { RelayLogEntry } from './types.ts';

/** The default logger: one JSON line per entry. */
export function consoleLogger(entry: RelayLogEntry): void {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
  if (entry.level === 'error') console.error(line);
  else if (entry.level === 'warn') console.warn(line);
  else console.log(line);
}

/** What a refused client is told: close code, message, whether retrying can help. */
export const LEASE_REFUSALS: Record<
  LeaseRefusal,
  { code: number; message: string; fatal: boolean; metric: RefusalReason }
> = {
  revoked: {
    code: 4401,
    message: 'Unauthorized: the session token was revoked',
    fatal: true,
    metric: 'token-revoked',
  },
  'token-used': {
    code: 4401,
    message: 'Unauthorized: the session token was already used',
    fatal: true,
    metric: 'token-used',
  },
  'token-limit': {
    code: 4429,
    message: 'Too many concurrent sessions for this token',
    fatal: false,
    metric: 'token-limit',
  },
  'agent-limit': {
    code: 4429,
    message: 'Too many concurrent sessions for this agent',
    fatal: false,
    metric: 'agent-limit',
  },
};

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
