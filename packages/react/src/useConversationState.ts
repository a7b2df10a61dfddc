'use client';
import type { Conversation, ConversationState } from '@voicewire/core';
import { useSyncExternalStore } from 'react';

/**
 * Reads a slice of a conversation's state; the component re-renders only when the slice changes
 * (`Object.is`). Audio levels are not in the state, so audio never re-renders anything.
 *
 * The selector must return a part of the state or a primitive (`(s) => s.status`,
 * `(s) => s.transcript.length`), not a new object or array on each call: derive those with
 * `useMemo` from a selected part.
 *
 * @example const status = useConversationState(conversation, (state) => state.status);
 */
export function useConversationState<T>(
  conversation: Conversation,
  selector: (state: ConversationState) => T,
): T {
  const { store } = conversation;
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.getState()),
    // Hydration renders what the server rendered: the state the conversation was created with.
    () => selector(store.getInitialState()),
  );
}
