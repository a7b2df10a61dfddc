'use client';
import type { ConversationError } from '@voicewire/core';
import {
  type ButtonHTMLAttributes,
  type CSSProperties,
  forwardRef,
  type MouseEvent,
  type ReactNode,
  useId,
} from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeEventHandlers } from './compose.ts';
import { Slot } from './Slot.tsx';
import {
  DEFAULT_TALK_BUTTON_LABELS,
  defaultFormatError,
  getTalkButtonState,
  isTalkButtonPressed,
  type TalkButtonLabels,
  type TalkButtonState,
} from './talkButtonState.ts';
import { useConversationState } from './useConversationState.ts';

export interface TalkButtonRenderState {
  state: TalkButtonState;
  /** The label for this state (after `labels` overrides). */
  label: string;
  pressed: boolean;
}

export interface TalkButtonProps
  extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'children'>,
    ConversationBindingProps {
  /**
   * Per-state text, merged over the defaults (`Start conversation`, `Connecting…`,
   * `End conversation`, `Reconnecting…`, `Try again`).
   * @defaultValue DEFAULT_TALK_BUTTON_LABELS
   */
  labels?: Partial<TalkButtonLabels>;
  /**
   * Content of the button; a function receives the state. With `asChild`, the single child
   * element to render as instead.
   * @defaultValue the label of the current state
   */
  children?: ReactNode | ((state: TalkButtonRenderState) => ReactNode);
  /**
   * Render as the child element (a link, a design-system button), merging props and behaviour.
   * @defaultValue false
   */
  asChild?: boolean;
  /**
   * The text announced when the conversation fails.
   * @defaultValue the error's message
   */
  formatError?: (error: ConversationError) => string;
}

// Hidden from sight, not from assistive technology (the usual clip pattern). Inline because it
// must work without the stylesheet; it is not presentational.
const VISUALLY_HIDDEN: CSSProperties = {
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

/**
 * One button that starts and ends the conversation, in the manner of a toggle: `aria-pressed`
 * while a conversation is on, `data-state` for styling (see `TalkButtonState`), `aria-busy` while
 * connecting, and the error announced through a `role="alert"` region it is described by.
 */
export const TalkButton = forwardRef<HTMLButtonElement, TalkButtonProps>(function TalkButton(props, ref) {
  const {
    conversation: conversationProp,
    labels,
    children,
    asChild = false,
    formatError = defaultFormatError,
    onClick,
    ...buttonProps
  } = props;
  const conversation = useBoundConversation(conversationProp, 'TalkButton');
  const state = useConversationState(conversation, (s) => getTalkButtonState(s.status, s.mode));
  const error = useConversationState(conversation, (s) => s.error);
  const errorId = useId();

  const label = labels?.[state] ?? DEFAULT_TALK_BUTTON_LABELS[state];
  const pressed = isTalkButtonPressed(state);
  const showError = state === 'error' && error !== null;

  const toggle = (event: MouseEvent<HTMLButtonElement>) => {
    // The second click of a double click (detail 2) would end the call it just started.
    if (event.detail > 1) return;
    if (pressed) void conversation.stop().catch(() => {});
    // A failed start is in the store (status `error`, the message announced); nothing to throw.
    else void conversation.start().catch(() => {});
  };

  const describedBy = [buttonProps['aria-describedby'], showError ? errorId : undefined]
    .filter(Boolean)
    .join(' ');
  const Component = asChild ? Slot : 'button';
  const content =
    asChild || children === undefined
      ? (children ?? label)
      : typeof children === 'function'
        ? children({ state, label, pressed })
        : children;

  return (
    <>
      <Component
        type={asChild ? undefined : 'button'}
        aria-pressed={pressed}
        aria-busy={state === 'connecting' || state === 'reconnecting' ? true : undefined}
        data-state={state}
        data-voicewire="talk-button"
        {...buttonProps}
        aria-describedby={describedBy || undefined}
        ref={ref}
        onClick={composeEventHandlers(onClick, toggle)}
      >
        {content as ReactNode}
      </Component>
      <span
        id={errorId}
        role="alert"
        data-voicewire="talk-button-error"
        data-kind={showError ? error.kind : undefined}
        style={VISUALLY_HIDDEN}
      >
        {showError ? formatError(error) : null}
      </span>
    </>
  );
});
