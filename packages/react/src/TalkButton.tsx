'use client';
import type { ConversationError } from '@voicewire/core';
import {
  type ButtonHTMLAttributes,
  type FocusEvent,
  forwardRef,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
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
  isConnectedState,
  isTalkButtonPressed,
  type TalkButtonLabels,
  type TalkButtonState,
} from './talkButtonState.ts';
import { useConversationState } from './useConversationState.ts';
import { VISUALLY_HIDDEN } from './visuallyHidden.ts';

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

function safelyCapture(event: PointerEvent<HTMLElement>): void {
  try {
    event.currentTarget.setPointerCapture(event.pointerId);
  } catch {
    // Synthetic events (tests) have no active pointer to capture.
  }
}

/**
 * One button that starts and ends the conversation, in the manner of a toggle: `aria-pressed`
 * while a conversation is on, `data-state` for styling (see `TalkButtonState`), `aria-busy` while
 * connecting, and the error announced through a `role="alert"` region it is described by.
 *
 * In push-to-talk (`turnTaking: 'pushToTalk'`), once connected it becomes a hold control labelled
 * "Hold to talk": the microphone is on the wire while the pointer is down on it or Space is held
 * while it has focus (`aria-pressed` and `data-talking` say so), and pressing while the agent
 * speaks silences the agent at once. A click then never ends the call: give users another
 * control for that (`conversation.stop()`).
 */
export const TalkButton = forwardRef<HTMLButtonElement, TalkButtonProps>(function TalkButton(props, ref) {
  const {
    conversation: conversationProp,
    labels,
    children,
    asChild = false,
    formatError = defaultFormatError,
    onClick,
    onPointerDown,
    onPointerUp,
    onPointerCancel,
    onKeyDown,
    onKeyUp,
    onBlur,
    onContextMenu,
    ...buttonProps
  } = props;
  const conversation = useBoundConversation(conversationProp, 'TalkButton');
  const state = useConversationState(conversation, (s) => getTalkButtonState(s.status, s.mode));
  const error = useConversationState(conversation, (s) => s.error);
  const errorId = useId();
  const pushToTalk = useConversationState(conversation, (s) => s.turnTaking === 'pushToTalk');
  const talking = useConversationState(conversation, (s) => s.talking);
  // Push-to-talk in a call: a hold control (pressed while held) rather than a start/end toggle.
  const holdControl = pushToTalk && isConnectedState(state);

  const labelKey = holdControl ? 'holdToTalk' : state;
  const label = labels?.[labelKey] ?? DEFAULT_TALK_BUTTON_LABELS[labelKey];
  const pressed = holdControl ? talking : isTalkButtonPressed(state);
  const showError = state === 'error' && error !== null;

  const press = () => conversation.pressToTalk();
  const release = () => conversation.releaseToTalk();
  const pointerDown = (event: PointerEvent<HTMLButtonElement>) => {
    if (!holdControl || event.button !== 0) return;
    // Keep receiving the pointer's up even if it slides off the button.
    safelyCapture(event);
    press();
  };
  const pointerUp = () => {
    if (holdControl) release();
  };
  const keyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (!holdControl || event.key !== ' ') return;
    // Space held: press once (ignore auto-repeat), and no click on its release.
    event.preventDefault();
    if (!event.repeat) press();
  };
  const keyUp = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (!holdControl || event.key !== ' ') return;
    event.preventDefault();
    release();
  };
  const blur = (_event: FocusEvent<HTMLButtonElement>) => {
    if (holdControl && talking) release();
  };
  const contextMenu = (event: MouseEvent<HTMLButtonElement>) => {
    // A long press on a phone would open the context menu over a hold control.
    if (holdControl) event.preventDefault();
  };

  const toggle = (event: MouseEvent<HTMLButtonElement>) => {
    // In push-to-talk a click is the end of a hold, never "end the call".
    if (holdControl) return;
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
        data-turn-taking={pushToTalk ? 'pushToTalk' : undefined}
        data-talking={holdControl ? String(talking) : undefined}
        data-voicewire="talk-button"
        {...buttonProps}
        aria-describedby={describedBy || undefined}
        ref={ref}
        onClick={composeEventHandlers(onClick, toggle)}
        onPointerDown={composeEventHandlers(onPointerDown, pointerDown)}
        onPointerUp={composeEventHandlers(onPointerUp, pointerUp)}
        onPointerCancel={composeEventHandlers(onPointerCancel, pointerUp)}
        onKeyDown={composeEventHandlers(onKeyDown, keyDown)}
        onKeyUp={composeEventHandlers(onKeyUp, keyUp)}
        onBlur={composeEventHandlers(onBlur, blur)}
        onContextMenu={composeEventHandlers(onContextMenu, contextMenu)}
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
