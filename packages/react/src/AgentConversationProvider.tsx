'use client';
import type { Conversation, ConversationOptions } from '@voicewire/core';
import { createContext, type ReactNode, useContext } from 'react';
import { useOwnedConversation } from './useAgentConversation.ts';
import { type AgentConversation, useConversation } from './useConversation.ts';

export const AgentConversationContext = createContext<Conversation | null>(null);
AgentConversationContext.displayName = 'AgentConversationContext';

export type AgentConversationProviderProps =
  | {
      /** A conversation to share: one from `useAgentConversation().conversation` or `createConversation`. */
      conversation: Conversation;
      children?: ReactNode;
    }
  | ({
      conversation?: undefined;
      children?: ReactNode;
    } & ConversationOptions);

/**
 * Shares one conversation with every voicewire component and `useAgentConversationContext()`
 * below it. Give it the conversation options (it then owns the conversation and stops it when it
 * unmounts) or a `conversation` created elsewhere (whose owner stops it).
 */
export function AgentConversationProvider(props: AgentConversationProviderProps): ReactNode {
  const { children, conversation: given, ...options } = props;
  const owned = useOwnedConversation(given ? null : (options as ConversationOptions));
  return (
    <AgentConversationContext.Provider value={given ?? owned}>{children}</AgentConversationContext.Provider>
  );
}

/** The conversation of the nearest `AgentConversationProvider`, or null outside one. */
export function useOptionalConversationContext(): Conversation | null {
  return useContext(AgentConversationContext);
}

/**
 * The state and controls of the nearest `AgentConversationProvider`'s conversation, tracked like
 * `useAgentConversation`'s. Throws when there is no provider above.
 */
export function useAgentConversationContext(): AgentConversation {
  const conversation = useContext(AgentConversationContext);
  if (!conversation) {
    throw new Error(
      'useAgentConversationContext must be used inside <AgentConversationProvider>: wrap the component in one.',
    );
  }
  return useConversation(conversation);
}
