import { expect, vi } from 'vitest';

/**
 * For fuzz and malformed-input tests: the library must neither throw nor *report* an internal
 * error. Its socket handlers catch everything (a hostile frame must never surface as an uncaught
 * exception in a page) and log what they caught with `console.error`, so a test that only
 * checks "nothing threw" cannot see an internal bug. This watches every channel an internal
 * error can come out of — `console.error` and `console.warn`, and, for the server, the log
 * lines it is given through its `log` option — and `expectNone()` fails the test on any of them.
 *
 * Expected complaints are not logged by the library (they are structured errors handed to
 * `onError` or sent on the wire), so nothing needs to be allowed here.
 */
export interface InternalErrorWatch {
  /** Every line seen so far, `console.error: …` or `log: …`. */
  readonly lines: string[];
  /** Pass as the server's `log` option: lines that match `internal` are recorded. */
  log(line: string): void;
  /** Fails the test if anything was recorded. Restores the console. */
  expectNone(): void;
  /** Restores the console without checking (for `afterEach`). */
  restore(): void;
}

/** Log lines the server writes only when it caught an exception of its own. */
const SERVER_INTERNAL =
  /failed on a message|setup failed|pacing error|internal error|unhandled|TypeError|RangeError/i;

export interface WatchOptions {
  /**
   * Lines a dependency writes on its own for bad input, which are not the library's: each
   * pattern needs a reason where it is used. Matching lines are counted in `allowed`, not failed.
   */
  allow?: RegExp[];
}

export function watchInternalErrors(options: WatchOptions = {}): InternalErrorWatch {
  const lines: string[] = [];
  const allow = options.allow ?? [];
  const format = (args: unknown[]) =>
    args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ');
  const spies = (['error', 'warn'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const line = `console.${method}: ${format(args)}`;
      if (!allow.some((pattern) => pattern.test(line))) lines.push(line);
    }),
  );
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    for (const spy of spies) spy.mockRestore();
  };
  return {
    lines,
    log(line) {
      if (SERVER_INTERNAL.test(line)) lines.push(`log: ${line}`);
    },
    expectNone() {
      restore();
      expect(lines, 'internal errors were logged').toEqual([]);
    },
    restore,
  };
}
