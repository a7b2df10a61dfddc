import type { Player } from '../audio/types.ts';
import { disconnect } from './connection.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './defaults.ts';
import type { ConversationHost, Run } from './run.ts';
import { safely } from './safely.ts';
import type { DisconnectReason } from './types.ts';

/**
 * The agent ended the call (`hangup`, or a normal close right after its reply's end). The socket
 * and the microphone go at once (nothing more will be said or heard); the agent's last words play
 * to their end with status `ending`, at most `drainTimeoutMs`; then the run ends with `reason`,
 * releasing the player and the context. With nothing left to play it ends at once. A user
 * `stop()` meanwhile ends it at once (endRun cancels the drain).
 */
export function drainThenEnd(host: ConversationHost, current: Run, reason: DisconnectReason): void {
  if (current.ended || current.cancelDrain !== null) return;
  const player = current.player;
  const error = reason.error ?? null;
  if (player === null || !current.audioPending || nothingLeftToHear(player)) {
    void host.endRun(current, 'ended', error, reason);
    return;
  }
  disconnect(current);
  current.uplink.clear();
  const capture = current.capture;
  current.capture = null;
  safely(() => capture?.stop());
  // The reply is complete: its tail is decoded and the queue running empty is its end.
  if (!current.turn.replyEnded) safely(() => player.endStream?.());
  // The tail just flushed may have been all there was left (or nothing was).
  if (nothingLeftToHear(player)) {
    void host.endRun(current, 'ended', error, reason);
    return;
  }
  const timeoutMs = host.options().drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const playout = waitForPlayout(player, timeoutMs);
  current.cancelDrain = playout.cancel;
  host.update({ status: 'ending', talking: false });
  void playout.done.then(() => {
    if (current.ended) return;
    current.cancelDrain = null;
    void host.endRun(current, 'ended', error, reason);
  });
}

/**
 * The player has played out everything it was given: asked, not inferred from a `drained` event,
 * which a queue that ran empty before the hang-up arrived has already sent (the local agent
 * hangs up once its goodbye has had time to play). A player that cannot tell is waited for.
 */
export function nothingLeftToHear(player: Player): boolean {
  try {
    return player.getPosition?.().pendingMs === 0;
  } catch {
    return false;
  }
}

/**
 * Resolves when `player` has played out its stream (`drained`) or after `timeoutMs`, whichever
 * comes first; `cancel()` resolves it at once.
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
