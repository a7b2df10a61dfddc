'use client';
import type { Conversation } from '@voicewire/core';
import { isLiveStatus } from '@voicewire/core/conversation';
import { type DependencyList, type RefObject, useEffect, useRef } from 'react';
import { prefersReducedMotion } from './visuallyHidden.ts';

/**
 * Where an animated component stands, written as its `data-state`:
 * - `active`: the call is live and it draws on every animation frame (a few times a second
 *   under `prefers-reduced-motion`, when it allows any motion);
 * - `static`: the call is live but the user asked for less motion and the component holds still;
 * - `inactive`: the call is not live; the component shows its resting picture.
 */
export type LiveAnimationState = 'active' | 'static' | 'inactive';

/** What a component draws; the loop around it is {@link useLiveAnimation}'s. */
export interface LivePainter {
  /** One animation frame while `active` (`now`: the frame's timestamp, in ms). */
  frame(now: number): void;
  /** The animation stopped, or never started: draw the resting picture. */
  rest(): void;
  /** Before each change of state is applied: read again what may have changed (theme, size). */
  refresh?(): void;
  /** Undo what the painter set up (observers). */
  dispose?(): void;
}

/**
 * Runs a painter on its element while the conversation is live (`isLiveStatus`: connecting,
 * connected, reconnecting, ending), outside React: the status is read from the store directly
 * and frames are drawn in `requestAnimationFrame`, so nothing re-renders per frame or per status
 * change. Under `prefers-reduced-motion` it draws `reducedMotionFps` frames a second, or holds
 * still (`static`) when that is 0. Returns the ref to put on the element.
 *
 * `createPainter` is called when the element, the conversation, `reducedMotionFps` or `deps`
 * change; it receives `resync`, to call when something outside the status changes what should
 * be drawn (the element was resized).
 */
export function useLiveAnimation<T extends HTMLElement>(
  conversation: Conversation,
  createPainter: (element: T, resync: () => void) => LivePainter,
  reducedMotionFps: number,
  deps: DependencyList,
): RefObject<T | null> {
  const element = useRef<T | null>(null);
  const create = useRef(createPainter);
  create.current = createPainter;
  // `deps` are the caller's inputs to `createPainter`, which is read through a ref.
  useEffect(() => {
    const node = element.current;
    if (!node) return;
    return animateWhileLive(node, conversation, create.current, reducedMotionFps);
  }, [conversation, reducedMotionFps, ...deps]);
  return element;
}

function animateWhileLive<T extends HTMLElement>(
  node: T,
  conversation: Conversation,
  createPainter: (element: T, resync: () => void) => LivePainter,
  reducedMotionFps: number,
): () => void {
  const motion = prefersReducedMotion();
  let frame = 0;
  let lastFrameAt = Number.NEGATIVE_INFINITY;

  const tick = (now: number) => {
    frame = requestAnimationFrame(tick);
    if (motion?.matches) {
      if (now - lastFrameAt < 1000 / reducedMotionFps) return;
      lastFrameAt = now;
    }
    painter.frame(now);
  };
  const sync = () => {
    const live = isLiveStatus(conversation.store.getState().status);
    const still = (motion?.matches ?? false) && !(reducedMotionFps > 0);
    const state: LiveAnimationState = live ? (still ? 'static' : 'active') : 'inactive';
    node.dataset.state = state;
    painter.refresh?.();
    if (state === 'active') {
      if (frame === 0) frame = requestAnimationFrame(tick);
      return;
    }
    if (frame !== 0) cancelAnimationFrame(frame);
    frame = 0;
    painter.rest();
  };
  // Resized (say): applied on the next frame, once, however many times it is asked for.
  let resyncFrame = 0;
  const resync = () => {
    if (resyncFrame === 0)
      resyncFrame = requestAnimationFrame(() => {
        resyncFrame = 0;
        sync();
      });
  };
  const painter = createPainter(node, resync);
  const unsubscribe = conversation.store.subscribe(sync);
  motion?.addEventListener?.('change', sync);
  sync();
  return () => {
    unsubscribe();
    motion?.removeEventListener?.('change', sync);
    if (resyncFrame !== 0) cancelAnimationFrame(resyncFrame);
    if (frame !== 0) cancelAnimationFrame(frame);
    frame = 0;
    painter.dispose?.();
  };
}
