'use client';
import type { Conversation, ConversationOptions } from '@voicewire/core';
import { useOptionalConversationContext } from './AgentConversationProvider.tsx';
import { useOwnedConversation } from './useAgentConversation.ts';

/** How a component finds its conversation; shared by `TalkButton`, `Transcript` and `AudioLevel`. */
export interface ConversationBindingProps {
  /**
   * The conversation to show and control. When absent, the component uses its own (given
   * `agentId`) or the nearest `AgentConversationProvider`'s.
   */
  conversation?: Conversation;
  /** Standalone use: the agent to talk to; the component then owns its conversation. */
  agentId?: string;
  /** Standalone use: the other conversation options (URL, key or token, formats, callbacks). */
  options?: Partial<ConversationOptions>;
}

/** The `conversation` prop, else a standalone one (given `agentId`), else the provider's. */
export function useBoundConversation(props: ConversationBindingProps, component: string): Conversation {
  const { conversation, agentId, options } = props;
  const context = useOptionalConversationContext();
  const id = agentId ?? options?.agentId;
  const standaloneOptions = !conversation && id ? ({ ...options, agentId: id } as ConversationOptions) : null;
  // Always called (hooks cannot be conditional); without options it never creates anything.
  const owned = useOwnedConversation(standaloneOptions);
  const bound = conversation ?? (standaloneOptions ? owned : context);
  if (!bound) {
    throw new Error(
      `<${component}> has no conversation: render it inside <AgentConversationProvider>, or pass a \`conversation\` or an \`agentId\`.`,
    );
  }
  return bound;
}
