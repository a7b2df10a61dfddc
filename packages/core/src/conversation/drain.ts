import type { Player } from '../audio/types.ts';

/**
 * Drain, then close: when the agent ends the call, what it already said plays to its end before
 * the conversation releases the audio. Bounded: a player that never reports the end (a stalled
 * decoder, a suspended context) is released after this long anyway.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Resolves when `player` has played out its stream (`drained`) or after `timeoutMs`, whichever
 * comes first; `cancel()` resolves it at once (a user `stop()` cuts the drain short).
 */
export function waitForPlayout(
  player: Player,
  timeoutMs: number,
): { done: Promise<'drained' | 'timeout' | 'cancelled'>; cancel(): void } {
  let finish: (how: 'drained' | 'timeout' | 'cancelled') => void = () => {};
  const done = new Promise<'drained' | 'timeout' | 'cancelled'>((resolve) => {
    finish = resolve;
  });
  let off = (): void => {};
  const timer = setTimeout(() => settle('timeout'), timeoutMs);
  function settle(how: 'drained' | 'timeout' | 'cancelled'): void {
    clearTimeout(timer);
    off();
    finish(how);
  }
  try {
    off = player.on('drained', () => settle('drained'));
  } catch {
    settle('timeout');
  }
  return { done, cancel: () => settle('cancelled') };
}
