'use client';
import type { Conversation, ConversationState } from '@voicewire/core';
import { useCallback, useRef, useSyncExternalStore } from 'react';

/**
 * Reads a slice of a conversation's state; the component re-renders only when the slice changes
 * (by `isEqual`, `Object.is` by default). Audio levels are not in the state, so audio never
 * re-renders anything.
 *
 * @example const status = useConversationState(conversation, (state) => state.status);
 */
export function useConversationState<T>(
  conversation: Conversation,
  selector: (state: ConversationState) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const { store } = conversation;
  const selectorRef = useRef(selector);
  const isEqualRef = useRef(isEqual);
  selectorRef.current = selector;
  isEqualRef.current = isEqual;
  // The last state seen and what it selected; getSnapshot must return the same value for the same
  // store state, or React would render in a loop.
  const cache = useRef<{ store: typeof store; state: ConversationState; selection: T } | null>(null);

  const subscribe = useCallback((onChange: () => void) => store.subscribe(onChange), [store]);
  const getSnapshot = useCallback((): T => {
    const state = store.getState();
    const cached = cache.current;
    if (cached && cached.store === store && cached.state === state) return cached.selection;
    const selection = selectorRef.current(state);
    if (cached && cached.store === store && isEqualRef.current(cached.selection, selection)) {
      cache.current = { store, state, selection: cached.selection };
      return cached.selection;
    }
    cache.current = { store, state, selection };
    return selection;
  }, [store]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
