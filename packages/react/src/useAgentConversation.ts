'use client';
import type { Conversation, ConversationOptions } from '@voicewire/core';
import { createConversation } from '@voicewire/core';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { createLazyConversation } from './createLazyConversation.ts';
import { type AgentConversation, useConversation } from './useConversation.ts';

/** Options of `useAgentConversation`: those of `createConversation`. */
export type UseAgentConversationOptions = ConversationOptions;

// useLayoutEffect keeps the options current before any event handler can run; on the server
// neither runs, and React 18 warns about useLayoutEffect there.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * Owns a conversation for the life of the component: created when `start()` is first called (so
 * rendering, including on the server, touches no browser API), stopped when the component
 * unmounts. Options are read at each `start()`; callbacks are read when they fire, so both may
 * change between renders without reconnecting.
 */
export function useOwnedConversation(options: ConversationOptions | null): Conversation {
  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    // Keep the last options a live conversation was given, should a component stop passing them
    // (switching to a provider): its callbacks still fire until it ends.
    if (options) optionsRef.current = options;
  });
  const [conversation] = useState(() =>
    createLazyConversation(() => {
      const current = optionsRef.current;
      if (!current) throw new Error('voicewire: this conversation has no options (no agentId was given).');
      return current;
    }, createConversation),
  );

  const mounts = useRef(0);
  useEffect(() => {
    mounts.current += 1;
    return () => {
      mounts.current -= 1;
      // StrictMode unmounts and remounts every component once in development, keeping its state:
      // stopping there would end a live call for nothing. A real unmount is not followed by a
      // remount in the same commit, so a check a microtask later tells the two apart.
      queueMicrotask(() => {
        if (mounts.current === 0) void conversation.stop('unmount').catch(() => {});
      });
    };
  }, [conversation]);

  return conversation;
}

/**
 * A live voice conversation with an agent, owned by this component.
 *
 * @example
 * const { status, transcript, start, stop } = useAgentConversation({
 *   agentId: 'my-agent',
 *   url: 'wss://relay.example.com/v1/talk',
 * });
 */
export function useAgentConversation(options: UseAgentConversationOptions): AgentConversation {
  return useConversation(useOwnedConversation(options));
}
