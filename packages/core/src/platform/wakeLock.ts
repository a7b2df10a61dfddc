/**
 * The screen wake lock a call holds, so a phone does not dim and lock in the middle of a
 * conversation. Built on `navigator.wakeLock` (the Screen Wake Lock API):
 *
 * - `acquire()` asks for the lock when the page is visible; the browser releases it by itself
 *   whenever the page is hidden, so it is asked for again each time the page becomes visible,
 *   for as long as the lock is wanted.
 * - `release()` gives it back and stops watching visibility; idempotent.
 * - A browser without the API, or one that refuses (no user activation, a battery saver, a
 *   permissions policy), is not an error: the call goes on, the screen may sleep. `state`
 *   says which.
 */

/** `held`: the screen stays on; `wanted`: acquired but not held now (page hidden, refused, unsupported). */
export type WakeLockState = 'released' | 'wanted' | 'held';

export interface WakeLockHandle {
  readonly state: WakeLockState;
  /** Whether the browser has the Screen Wake Lock API at all. */
  readonly supported: boolean;
  /** Hold the screen on now and every time the page becomes visible again, until `release()`. */
  acquire(): void;
  /** Let the screen sleep again; idempotent. Resolves once the browser's lock is given back. */
  release(): Promise<void>;
}

interface SentinelLike {
  readonly released?: boolean;
  release(): Promise<void>;
  addEventListener?(type: 'release', listener: () => void): void;
  removeEventListener?(type: 'release', listener: () => void): void;
}

export interface WakeLockEnvironment {
  /** @defaultValue globalThis.navigator */
  navigator?: { wakeLock?: { request(type: 'screen'): Promise<SentinelLike> } } | undefined;
  /** @defaultValue globalThis.document */
  document?: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'> | undefined;
}

export function createWakeLock(environment: WakeLockEnvironment = {}): WakeLockHandle {
  const nav =
    'navigator' in environment
      ? environment.navigator
      : (globalThis.navigator as WakeLockEnvironment['navigator']);
  const doc =
    'document' in environment ? environment.document : typeof document === 'undefined' ? undefined : document;
  const api = nav?.wakeLock;
  const supported = typeof api?.request === 'function';

  let wanted = false;
  let sentinel: SentinelLike | null = null;
  let requesting: Promise<void> | null = null;

  const onSentinelReleased = () => {
    // The browser let go (the page was hidden): asked for again when it is visible.
    sentinel?.removeEventListener?.('release', onSentinelReleased);
    sentinel = null;
  };

  const request = (): void => {
    if (!supported || !wanted || sentinel !== null || requesting !== null) return;
    if (doc !== undefined && doc.visibilityState !== 'visible') return;
    let pending: Promise<SentinelLike>;
    try {
      pending = (api as NonNullable<typeof api>).request('screen');
    } catch {
      return;
    }
    requesting = Promise.resolve(pending).then(
      (next) => {
        requesting = null;
        if (!wanted) {
          // Released while the request was in flight: give this one straight back.
          void next.release().catch(() => {});
          return;
        }
        sentinel = next;
        next.addEventListener?.('release', onSentinelReleased);
      },
      () => {
        // Refused (NotAllowedError and the like): the call goes on without it.
        requesting = null;
      },
    );
  };

  const onVisibilityChange = () => {
    if (doc?.visibilityState === 'visible') request();
  };

  return {
    get state(): WakeLockState {
      if (!wanted) return 'released';
      return sentinel !== null && sentinel.released !== true ? 'held' : 'wanted';
    },
    supported,
    acquire() {
      if (wanted) return;
      wanted = true;
      if (!supported) return;
      doc?.addEventListener('visibilitychange', onVisibilityChange);
      request();
    },
    async release() {
      if (!wanted) return;
      wanted = false;
      doc?.removeEventListener('visibilitychange', onVisibilityChange);
      const held = sentinel;
      sentinel = null;
      const inFlight = requesting;
      if (held !== null) {
        held.removeEventListener?.('release', onSentinelReleased);
        await held.release().catch(() => {});
      }
      // A request still in flight is released by its own continuation (wanted is now false).
      if (inFlight !== null) await inFlight;
    },
  };
}
