/**
 * One shared timer for every session of an agent. Pacing audio with a timer per stream would
 * mean hundreds of timers firing out of step under load; one 20 ms tick that walks the streams
 * due now keeps the event loop calm and the send times predictable. The interval only exists
 * while something is registered, so an idle agent (or one closed in a test) keeps no timer.
 */

export interface Tickable {
  /** `now` is `performance.now()` at the start of the tick. */
  tick(now: number): void;
}

export interface Ticker {
  add(item: Tickable): void;
  delete(item: Tickable): void;
  readonly size: number;
  /** Stop the timer and forget everything. */
  clear(): void;
}

export function createTicker(intervalMs: number, onError: (error: unknown, item: Tickable) => void): Ticker {
  const items = new Set<Tickable>();
  let timer: ReturnType<typeof setInterval> | undefined;

  function run(): void {
    const now = performance.now();
    for (const item of items) {
      try {
        item.tick(now);
      } catch (error) {
        // One broken session must not stop the clock for every other one.
        items.delete(item);
        onError(error, item);
      }
    }
    if (items.size === 0) stop();
  }

  function stop(): void {
    if (timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    add(item) {
      items.add(item);
      if (timer === undefined) timer = setInterval(run, intervalMs);
    },
    delete(item) {
      items.delete(item);
      if (items.size === 0) stop();
    },
    get size() {
      return items.size;
    },
    clear() {
      items.clear();
      stop();
    },
  };
}
