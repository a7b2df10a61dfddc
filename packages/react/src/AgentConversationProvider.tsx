'use client';
import type { Conversation, ConversationOptions } from '@voicewire/core';
import { createContext, type ReactNode, useContext } from 'react';
import {
  type AgentConversation,
  useConversationBinding,
  useOwnedConversation,
} from './useAgentConversation.ts';

const AgentConversationContext = createContext<Conversation | null>(null);
AgentConversationContext.displayName = 'AgentConversationContext';

/**
 * Either a `conversation` to share, or the options of one the provider owns: every option of
 * `createConversation` (`ConversationOptions`), `provider` included.
 */
export type AgentConversationProviderProps =
  | {
      /**
       * A conversation to share: one from `useAgentConversation().conversation` or
       * `createConversation`. Its owner stops it.
       */
      conversation: Conversation;
      children?: ReactNode;
    }
  | ({
      /** @defaultValue a conversation the provider creates from the other props and owns */
      conversation?: undefined;
      children?: ReactNode;
    } & ConversationOptions);

/**
 * Shares one conversation with every voicewire component and `useAgentConversationContext()`
 * below it. Give it the conversation options (it then owns the conversation, like
 * `useAgentConversation`, and stops it when it unmounts) or a `conversation` created elsewhere
 * (whose owner stops it).
 *
 * `provider` picks the service, and nothing else changes: the same components below work with
 * each. Like every option it may be a new object on each render: it is read at the next `start()`.
 *
 * @example
 * <AgentConversationProvider
 *   provider={openaiRealtime({ model: 'gpt-realtime', voice: 'marin' })}
 *   url="wss://relay.example.com/v1/realtime"
 *   getToken={fetchToken}
 * >
 *   <TalkButton />
 *   <Transcript />
 * </AgentConversationProvider>
 */
export function AgentConversationProvider(props: AgentConversationProviderProps): ReactNode {
  if (props.conversation) {
    return (
      <AgentConversationContext.Provider value={props.conversation}>
        {props.children}
      </AgentConversationContext.Provider>
    );
  }
  return <OwningProvider {...props} />;
}

function OwningProvider({
  children,
  conversation: _,
  ...options
}: AgentConversationProviderProps): ReactNode {
  const conversation = useOwnedConversation(options as ConversationOptions);
  return (
    <AgentConversationContext.Provider value={conversation}>{children}</AgentConversationContext.Provider>
  );
}

/** How a component finds its conversation; shared by `TalkButton`, `Transcript` and `AudioLevel`. */
export interface ConversationBindingProps {
  /**
   * The conversation to show and control.
   * @defaultValue the nearest `AgentConversationProvider`'s
   */
  conversation?: Conversation;
}

/**
 * The conversation a component shows and controls: its `conversation` prop, else the nearest
 * `AgentConversationProvider`'s. Throws, naming both, when there is neither.
 */
export function useBoundConversation(
  conversation: Conversation | undefined,
  component: string,
): Conversation {
  const provided = useContext(AgentConversationContext);
  const bound = conversation ?? provided;
  if (!bound) {
    throw new Error(
      `<${component}> has no conversation: render it inside <AgentConversationProvider>, or pass it a \`conversation\`.`,
    );
  }
  return bound;
}

/**
 * The state and controls of the nearest `AgentConversationProvider`'s conversation, like
 * `useAgentConversation`'s. Throws when there is no provider above.
 */
export function useAgentConversationContext(): AgentConversation {
  const conversation = useContext(AgentConversationContext);
  if (!conversation) {
    throw new Error(
      'useAgentConversationContext must be used inside <AgentConversationProvider>: wrap the component in one.',
    );
  }
  return useConversationBinding(conversation);
}
