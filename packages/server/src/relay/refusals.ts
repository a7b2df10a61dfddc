/** How the relay words what it tells browsers and operators: refusals and the default log. */
import type { RefusalReason, RelayMetrics } from './metrics.ts';
import type { LeaseRefusal } from './store.ts';
import type { RelayLogEntry, RelayLogger } from './types.ts';

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

/**
 * Store failures and recoveries: every failure is counted, but only the first of a run is logged
 * (`store-error`), and the first answer after it (`store-recovered`).
 */
export function storeHealth(
  kind: string,
  metrics: RelayMetrics,
  log: RelayLogger,
): { failed(operation: string, error: unknown): void; answered(): void } {
  let failing = false;
  return {
    failed(operation, error) {
      metrics.storeErrors++;
      if (failing) return;
      failing = true;
      log({
        level: 'error',
        event: 'store-error',
        message: `session store ${operation} failed: ${(error as Error).message}`,
        store: kind,
      });
    },
    answered() {
      if (!failing) return;
      failing = false;
      log({ level: 'info', event: 'store-recovered', message: 'session store reachable again', store: kind });
    },
  };
}
