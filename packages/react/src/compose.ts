import type { Ref, RefCallback, SyntheticEvent } from 'react';

/**
 * The consumer's handler runs first; ours runs unless the consumer called `preventDefault()`,
 * which is how a consumer vetoes the built-in behaviour (Radix's convention).
 */
export function composeEventHandlers<E extends SyntheticEvent>(
  theirs: ((event: E) => void) | undefined,
  ours: (event: E) => void,
): (event: E) => void {
  return (event) => {
    theirs?.(event);
    if (!event.defaultPrevented) ours(event);
  };
}

/** One ref callback that feeds every given ref (callback or object). */
export function composeRefs<T>(...refs: (Ref<T> | undefined)[]): RefCallback<T> {
  return (node) => {
    for (const ref of refs) {
      if (typeof ref === 'function') ref(node);
      else if (ref) (ref as { current: T | null }).current = node;
    }
  };
}
