/* The conversation's clock and timers. */

export function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** One pending timeout that can be restarted or cancelled. */
export interface Timer {
  /** (Re)start: a pending run is cancelled first. */
  start(ms: number, fn: () => void): void;
  clear(): void;
}

export function createTimer(): Timer {
  let handle: ReturnType<typeof setTimeout> | null = null;
  return {
    start(ms, fn) {
      if (handle !== null) clearTimeout(handle);
      handle = setTimeout(() => {
        handle = null;
        fn();
      }, ms);
    },
    clear() {
      if (handle !== null) clearTimeout(handle);
      handle = null;
    },
  };
}
