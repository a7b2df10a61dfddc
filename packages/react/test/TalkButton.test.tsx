import { act, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ConversationState } from '@voicewire/core';
import {
  AgentConversationProvider,
  TALK_BUTTON_STATES,
  TalkButton,
  type TalkButtonState,
} from '@voicewire/react';
import { createRef, StrictMode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { axeViolations } from './axe.ts';
import { createFakeConversation } from './fakeConversation.ts';

const STATE_OF: Record<TalkButtonState, Partial<ConversationState>> = {
  idle: { status: 'idle' },
  connecting: { status: 'connecting' },
  listening: { status: 'connected', mode: 'listening' },
  userSpeaking: { status: 'connected', mode: 'userSpeaking' },
  thinking: { status: 'connected', mode: 'thinking' },
  agentSpeaking: { status: 'connected', mode: 'agentSpeaking' },
  reconnecting: { status: 'reconnecting' },
  ended: { status: 'ended' },
  error: {
    status: 'error',
    error: { kind: 'unauthorized', code: 4401, message: 'The API key was refused.', fatal: true },
  },
};

const NAME_OF: Record<TalkButtonState, string> = {
  idle: 'Start conversation',
  connecting: 'Connecting…',
  listening: 'End conversation',
  userSpeaking: 'End conversation',
  thinking: 'End conversation',
  agentSpeaking: 'End conversation',
  reconnecting: 'Reconnecting…',
  ended: 'Start conversation',
  error: 'Try again',
};

describe('<TalkButton>', () => {
  it.each(TALK_BUTTON_STATES)(
    'in state %s: one button with its name, aria-pressed and data-state',
    async (state) => {
      const conversation = createFakeConversation(STATE_OF[state]);
      const { container } = render(<TalkButton conversation={conversation} />);
      const button = screen.getByRole('button', { name: NAME_OF[state] });
      expect(button).toHaveAttribute('data-state', state);
      expect(button).toHaveAttribute('type', 'button');
      const pressed = !['idle', 'ended', 'error'].includes(state);
      expect(button).toHaveAttribute('aria-pressed', String(pressed));
      if (state === 'connecting' || state === 'reconnecting')
        expect(button).toHaveAttribute('aria-busy', 'true');
      else expect(button).not.toHaveAttribute('aria-busy');
      expect(container.querySelectorAll('button')).toHaveLength(1);
      expect(await axeViolations(container)).toEqual([]);
    },
  );

  it('announces the error in an alert the button is described by', () => {
    const conversation = createFakeConversation();
    render(<TalkButton conversation={conversation} />);
    const button = screen.getByRole('button');
    expect(button).not.toHaveAccessibleDescription();
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
    act(() => conversation.set(STATE_OF.error));
    expect(screen.getByRole('alert')).toHaveTextContent('The API key was refused.');
    expect(button).toHaveAccessibleDescription('The API key was refused.');
    expect(button).toHaveAccessibleName('Try again');
  });

  it('formats the error with formatError', () => {
    const conversation = createFakeConversation(STATE_OF.error);
    render(<TalkButton conversation={conversation} formatError={(e) => `Schlüssel abgelehnt (${e.code})`} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Schlüssel abgelehnt (4401)');
  });

  it('takes per-state labels (i18n) and keeps the defaults for the rest', () => {
    const conversation = createFakeConversation();
    render(<TalkButton conversation={conversation} labels={{ idle: 'Gespräch beginnen' }} />);
    expect(screen.getByRole('button', { name: 'Gespräch beginnen' })).toBeInTheDocument();
    act(() => conversation.set({ status: 'connecting' }));
    expect(screen.getByRole('button', { name: 'Connecting…' })).toBeInTheDocument();
  });

  it('renders a children function with the state', () => {
    const conversation = createFakeConversation({ status: 'connected', mode: 'thinking' });
    render(
      <TalkButton conversation={conversation}>{({ state, label }) => `${label} (${state})`}</TalkButton>,
    );
    expect(screen.getByRole('button')).toHaveTextContent('End conversation (thinking)');
  });

  it('starts on click, stops on the next click, and follows the status', async () => {
    const user = userEvent.setup();
    const conversation = createFakeConversation();
    render(<TalkButton conversation={conversation} />);
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    expect(conversation.socketsOpened).toBe(1);
    expect(screen.getByRole('button')).toHaveAttribute('data-state', 'connecting');
    act(() => conversation.set({ status: 'connected', mode: 'agentSpeaking' }));
    expect(screen.getByRole('button')).toHaveAttribute('data-state', 'agentSpeaking');
    await user.click(screen.getByRole('button', { name: 'End conversation' }));
    expect(conversation.stopCalls).toBe(1);
    expect(screen.getByRole('button')).toHaveAttribute('data-state', 'ended');
    expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', 'false');
  });

  it('is keyboard operable: Enter and Space toggle it', async () => {
    const user = userEvent.setup();
    const conversation = createFakeConversation();
    render(<TalkButton conversation={conversation} />);
    await user.tab();
    expect(screen.getByRole('button')).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(conversation.socketsOpened).toBe(1);
    act(() => conversation.set({ status: 'connected' }));
    await user.keyboard(' ');
    expect(conversation.stopCalls).toBe(1);
  });

  it('opens one socket for a double click', async () => {
    const user = userEvent.setup();
    const conversation = createFakeConversation();
    render(<TalkButton conversation={conversation} />);
    await user.dblClick(screen.getByRole('button'));
    expect(conversation.socketsOpened).toBe(1);
    expect(conversation.stopCalls).toBe(0);
    expect(screen.getByRole('button')).toHaveAttribute('data-state', 'connecting');
  });

  it('runs the consumer onClick first; preventDefault skips the toggle', () => {
    const conversation = createFakeConversation();
    const calls: string[] = [];
    const { rerender } = render(
      <TalkButton
        conversation={conversation}
        onClick={(event) => {
          calls.push(`consumer:${conversation.store.getState().status}`);
          event.preventDefault();
        }}
      />,
    );
    fireEvent.click(screen.getByRole('button'));
    expect(calls).toEqual(['consumer:idle']);
    expect(conversation.socketsOpened).toBe(0);
    rerender(<TalkButton conversation={conversation} onClick={() => calls.push('consumer')} />);
    fireEvent.click(screen.getByRole('button'));
    expect(conversation.socketsOpened).toBe(1);
  });

  it('forwards its ref and spreads consumer props last', () => {
    const conversation = createFakeConversation();
    const ref = createRef<HTMLButtonElement>();
    render(
      <TalkButton conversation={conversation} ref={ref} className="mine" data-state="custom" title="Talk" />,
    );
    expect(ref.current).toBe(screen.getByRole('button'));
    expect(ref.current).toHaveClass('mine');
    expect(ref.current).toHaveAttribute('data-state', 'custom');
    expect(ref.current).toHaveAttribute('title', 'Talk');
  });

  it('renders as its child with asChild, merging handlers and refs', () => {
    const conversation = createFakeConversation();
    const ref = createRef<HTMLButtonElement>();
    const childClick = vi.fn();
    render(
      <TalkButton conversation={conversation} asChild ref={ref}>
        <button type="button" className="design-system" onClick={childClick}>
          Talk
        </button>
      </TalkButton>,
    );
    const button = screen.getByRole('button', { name: 'Talk' });
    expect(ref.current).toBe(button);
    expect(button).toHaveClass('design-system');
    expect(button).toHaveAttribute('data-state', 'idle');
    expect(button).toHaveAttribute('aria-pressed', 'false');
    fireEvent.click(button);
    expect(childClick).toHaveBeenCalledTimes(1);
    expect(conversation.socketsOpened).toBe(1);
  });

  it('uses the provider conversation, and names the provider when there is none', () => {
    const conversation = createFakeConversation({ status: 'connected', mode: 'thinking' });
    render(
      <AgentConversationProvider conversation={conversation}>
        <TalkButton />
      </AgentConversationProvider>,
    );
    expect(screen.getByRole('button')).toHaveAttribute('data-state', 'thinking');
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<TalkButton />)).toThrow(/AgentConversationProvider/);
    spy.mockRestore();
  });

  it('StrictMode double mount keeps the bound conversation untouched', () => {
    const conversation = createFakeConversation();
    render(
      <StrictMode>
        <TalkButton conversation={conversation} />
      </StrictMode>,
    );
    expect(conversation.socketsOpened).toBe(0);
    expect(conversation.stopCalls).toBe(0);
  });
});
