'use client';
import type { TranscriptTurn } from '@voicewire/core';
import {
  Fragment,
  forwardRef,
  type HTMLAttributes,
  type ReactNode,
  type UIEvent,
  useLayoutEffect,
  useRef,
} from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeEventHandlers, composeRefs } from './compose.ts';
import { useConversationState } from './useConversationState.ts';

export interface TranscriptLabels {
  /** Speaker name before a user turn. @defaultValue 'You' */
  user: string;
  /** Speaker name before an agent turn. @defaultValue 'Agent' */
  agent: string;
  /** Marker after a turn the user cut off. @defaultValue 'interrupted' */
  interrupted: string;
  /** Accessible name of the log. @defaultValue 'Conversation transcript' */
  log: string;
}

export const DEFAULT_TRANSCRIPT_LABELS: TranscriptLabels = {
  user: 'You',
  agent: 'Agent',
  interrupted: 'interrupted',
  log: 'Conversation transcript',
};

export interface TranscriptProps
  extends Omit<HTMLAttributes<HTMLDivElement>, 'children'>,
    ConversationBindingProps {
  /**
   * Renders one turn instead of the default markup (keep `data-role` on it for the default theme).
   * @defaultValue a `<div data-role>` with the speaker, the text and the interrupted marker
   */
  renderTurn?: (turn: TranscriptTurn, index: number) => ReactNode;
  /**
   * Shown while there are no turns yet.
   * @defaultValue null (nothing)
   */
  emptyState?: ReactNode;
  /** Speaker names, the interrupted marker and the log's name, for another language. */
  labels?: Partial<TranscriptLabels>;
  /**
   * Keep the newest turn in view, unless the reader has scrolled up.
   * @defaultValue true
   */
  autoScroll?: boolean;
}

/** How close to the bottom, in CSS pixels, still counts as "at the bottom". */
const STICK_TO_BOTTOM_PX = 24;

const useIsomorphicLayoutEffect = typeof window === 'undefined' ? () => {} : useLayoutEffect;

/**
 * The conversation so far, as a `role="log"` live region: screen readers announce new turns
 * politely; each turn says who spoke (`data-role="user" | "agent"`, and the speaker's name in
 * text); a turn the user cut off carries `data-interrupted` and a marker.
 */
export const Transcript = forwardRef<HTMLDivElement, TranscriptProps>(function Transcript(props, ref) {
  const {
    conversation: conversationProp,
    renderTurn,
    emptyState = null,
    labels: labelOverrides,
    autoScroll = true,
    onScroll,
    ...divProps
  } = props;
  const conversation = useBoundConversation(conversationProp, 'Transcript');
  const turns = useConversationState(conversation, (s) => s.transcript);
  const labels = { ...DEFAULT_TRANSCRIPT_LABELS, ...labelOverrides };
  const element = useRef<HTMLDivElement | null>(null);
  // Whether the reader was at the bottom before the last change: only then do we follow.
  const atBottom = useRef(true);

  const trackScroll = (event: UIEvent<HTMLDivElement>) => {
    const node = event.currentTarget;
    atBottom.current = node.scrollHeight - node.scrollTop - node.clientHeight <= STICK_TO_BOTTOM_PX;
  };

  useIsomorphicLayoutEffect(() => {
    const node = element.current;
    if (!autoScroll || !node || !atBottom.current) return;
    node.scrollTop = node.scrollHeight;
  }, [turns, autoScroll]);

  return (
    <div
      role="log"
      aria-live="polite"
      aria-label={labels.log}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable to be scrolled by keyboard (WCAG 2.1.1; axe scrollable-region-focusable).
      tabIndex={0}
      data-state={turns.length === 0 ? 'empty' : 'active'}
      data-voicewire="transcript"
      {...divProps}
      ref={composeRefs(ref, element)}
      onScroll={composeEventHandlers(onScroll, trackScroll)}
    >
      {turns.length === 0
        ? emptyState
        : turns.map((turn, index) =>
            renderTurn ? (
              <Fragment key={turn.id}>{renderTurn(turn, index)}</Fragment>
            ) : (
              <div
                key={turn.id}
                data-role={turn.role}
                data-interrupted={turn.interrupted ? '' : undefined}
                data-voicewire="transcript-turn"
              >
                <span data-voicewire="transcript-speaker">
                  {turn.role === 'user' ? labels.user : labels.agent}:{' '}
                </span>
                <span data-voicewire="transcript-text">{turn.text}</span>
                {turn.interrupted ? (
                  <span data-voicewire="transcript-interrupted"> ({labels.interrupted})</span>
                ) : null}
              </div>
            ),
          )}
    </div>
  );
});
