import type { CSSProperties } from 'react';

/**
 * Hidden from sight, not from assistive technology (the usual clip pattern). Inline because it
 * must work without the stylesheet; it is not presentational.
 */
export const VISUALLY_HIDDEN: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0, 0, 0, 0)',
  whiteSpace: 'nowrap',
  border: 0,
};

/** Whether the user asked the system for less motion (false during server rendering). */
export function prefersReducedMotion(): MediaQueryList | null {
  if (typeof window === 'undefined' || typeof window.matchMedia !== 'function') return null;
  return window.matchMedia('(prefers-reduced-motion: reduce)');
}
