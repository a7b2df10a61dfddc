'use client';
import type { ConversationState, ConversationStatus as Status } from '@voicewire/core';
import { forwardRef, type HTMLAttributes } from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { useConversationState } from './useConversationState.ts';
import { VISUALLY_HIDDEN } from './visuallyHidden.ts';

/**
 * The conversation's status (`idle`, `connecting`, `connected`…), as in `@voicewire/core`: the
 * name is shared with the component, so `import { type ConversationStatus }` still means it.
 */
export type ConversationStatus = Status;

/** What is announced, per moment of the conversation. Empty: say nothing. */
export interface ConversationStatusLabels {
  idle: string;
  connecting: string;
  /** Connected and waiting for the user (the user speaking and the agent thinking read the same). */
  listening: string;
  /** Push-to-talk, connected, the talk control not held. */
  holdToTalk: string;
  agentSpeaking: string;
  reconnecting: string;
  /** The agent ended the call; its last words are still playing. */
  ending: string;
  ended: string;
  /** Errors are announced by `<TalkButton>`'s `role="alert"`; this region stays quiet by default. */
  error: string;
}

export const DEFAULT_CONVERSATION_STATUS_LABELS: ConversationStatusLabels = {
  idle: '',
  connecting: 'Connecting…',
  listening: 'Listening',
  holdToTalk: 'Hold to talk',
  agentSpeaking: 'Agent speaking',
  reconnecting: 'Reconnecting…',
  ending: 'The agent is finishing',
  ended: 'Conversation ended',
  error: '',
};

/** The announcement for a state: changes only when there is something new to say. */
export function getStatusAnnouncement(
  state: ConversationState,
  labels: ConversationStatusLabels = DEFAULT_CONVERSATION_STATUS_LABELS,
): string {
  const { status, mode } = state;
  const extra = state as ConversationState & { turnTaking?: string; talking?: boolean };
  switch (status) {
    case 'connected':
      if (mode === 'agentSpeaking') return labels.agentSpeaking;
      if (extra.turnTaking === 'pushToTalk' && extra.talking !== true) return labels.holdToTalk;
      return labels.listening;
    default:
      return (labels as unknown as Record<string, string>)[status] ?? '';
  }
}

export interface ConversationStatusProps
  extends Omit<HTMLAttributes<HTMLDivElement>, 'children'>,
    ConversationBindingProps {
  /** Texts, for another language. */
  labels?: Partial<ConversationStatusLabels>;
  /**
   * Hide the text from sight (it is still announced); false shows it as a status line.
   * @defaultValue true
   */
  visuallyHidden?: boolean;
}

/**
 * A polite live region (`role="status"`) that tells screen-reader users what the conversation is
 * doing: connecting, listening, agent speaking, reconnecting, ended. It re-renders, and so
 * announces, only when the words change: once per change, never per audio frame. Errors are left
 * to `<TalkButton>`'s `role="alert"`. Put one next to your talk control.
 */
export const ConversationStatus = forwardRef<HTMLDivElement, ConversationStatusProps>(
  function ConversationStatus(props, ref) {
    const {
      conversation: conversationProp,
      labels: overrides,
      visuallyHidden = true,
      style,
      ...divProps
    } = props;
    const conversation = useBoundConversation(conversationProp, 'ConversationStatus');
    const labels = overrides ? { ...DEFAULT_CONVERSATION_STATUS_LABELS, ...overrides } : undefined;
    const text = useConversationState(conversation, (state) => getStatusAnnouncement(state, labels));
    const status = useConversationState(conversation, (state) => state.status);
    return (
      <div
        role="status"
        aria-live="polite"
        aria-atomic="true"
        data-voicewire="conversation-status"
        data-state={status}
        {...divProps}
        style={visuallyHidden ? { ...VISUALLY_HIDDEN, ...style } : style}
        ref={ref}
      >
        {text}
      </div>
    );
  },
);
