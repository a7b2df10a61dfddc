import { DEFAULT_RECONNECT_POLICY } from './defaults.ts';
import type { ReconnectPolicy } from './types.ts';

export type ResolvedReconnectPolicy = Required<ReconnectPolicy>;

export function resolveReconnectPolicy(
  policy: ReconnectPolicy | false | undefined,
): ResolvedReconnectPolicy | null {
  if (policy === false) return null;
  const p = { ...DEFAULT_RECONNECT_POLICY };
  if (policy === undefined) return p;
  if (isNonNegative(policy.maxAttempts)) p.maxAttempts = Math.floor(policy.maxAttempts);
  if (isNonNegative(policy.initialDelayMs)) p.initialDelayMs = policy.initialDelayMs;
  if (isNonNegative(policy.maxDelayMs)) p.maxDelayMs = policy.maxDelayMs;
  if (isNonNegative(policy.factor) && policy.factor >= 1) p.factor = policy.factor;
  if (isNonNegative(policy.jitter)) p.jitter = Math.min(1, policy.jitter);
  return p;
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first): exponential, capped at `maxDelayMs`,
 * then shortened by up to `jitter` of itself, so the result lies in `[base·(1−jitter), base]`.
 * Jitter that only ever shortens the wait keeps the cap a real cap and still spreads a crowd of
 * clients dropped by the same outage.
 */
export function reconnectDelayMs(
  policy: ResolvedReconnectPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - policy.jitter * r));
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
