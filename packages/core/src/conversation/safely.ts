/*
 * How the conversation calls code that may throw. Nothing here touches a browser global at
 * module scope: this module is imported during server rendering.
 */

export function noop(): void {}

/** Releasing goes on even if one part fails to release: the error is of no use to anyone. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Ignored on purpose.
  }
}

/**
 * Socket handlers never throw: a bug or a hostile frame must not surface as an uncaught error.
 * Nor does an integrator's callback break the conversation. Either is still reported.
 */
export function guard(fn: () => void, what = 'internal error while handling the socket:'): void {
  try {
    fn();
  } catch (error) {
    console.error(`[voicewire] ${what}`, error);
  }
}

/** A promise of `fn()`, also when `fn` throws before returning one. */
export function callAsync<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}
