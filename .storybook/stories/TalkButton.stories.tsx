import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ConversationState } from '@voicewire/core';
import { TALK_BUTTON_STATES, TalkButton, type TalkButtonState } from '@voicewire/react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';
import { conversationIn } from './scripted.ts';

const STATE_OF: Record<TalkButtonState, Partial<ConversationState>> = {
  idle: { status: 'idle' },
  connecting: { status: 'connecting' },
  listening: { status: 'connected', mode: 'listening' },
  userSpeaking: { status: 'connected', mode: 'userSpeaking' },
  thinking: { status: 'connected', mode: 'thinking' },
  agentSpeaking: { status: 'connected', mode: 'agentSpeaking' },
  reconnecting: { status: 'reconnecting' },
  ending: { status: 'ending' },
  ended: { status: 'ended' },
  error: {
    status: 'error',
    error: {
      kind: 'insufficient-credits',
      code: 1005,
      message: 'The account has no credits left.',
      fatal: true,
    },
  },
};

const meta = {
  title: 'Components/TalkButton',
  component: TalkButton,
  parameters: componentDocs(
    'One button that starts and ends the conversation (a toggle, `aria-pressed`), or in push-to-talk a hold control labelled "Hold to talk". Errors are announced in a `role="alert"` region.',
    [
      '--voicewire-accent',
      '--voicewire-accent-fg',
      '--voicewire-live',
      '--voicewire-speaking',
      '--voicewire-danger',
      '--voicewire-muted-fg',
      '--voicewire-radius',
      '--voicewire-gap',
      '--voicewire-transition',
    ],
  ),
} satisfies Meta<typeof TalkButton>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Idle: Story = {
  render: () => <TalkButton conversation={createFakeConversation()} />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const button = canvas.getByRole('button', { name: 'Start conversation' });
    await expect(button).toHaveAttribute('aria-pressed', 'false');
    await expect(button).toHaveAttribute('data-state', 'idle');
    await userEvent.click(button);
    await waitFor(() => expect(button).toHaveAttribute('data-state', 'connecting'));
    await expect(button).toHaveAttribute('aria-pressed', 'true');
    await expect(button).toHaveAttribute('aria-busy', 'true');
    await expect(button).toHaveAccessibleName('Connecting…');
  },
};

/** Every state side by side, each bound to a conversation put into that state. */
export const AllStates: Story = {
  render: () => (
    <div style={{ display: 'grid', gridTemplateColumns: 'max-content max-content', gap: '0.75rem 1.5rem' }}>
      {TALK_BUTTON_STATES.map((state) => (
        <div key={state} style={{ display: 'contents' }}>
          <code style={{ alignSelf: 'center' }}>{state}</code>
          <TalkButton conversation={createFakeConversation(STATE_OF[state])} />
        </div>
      ))}
    </div>
  ),
  play: async ({ canvasElement }) => {
    const buttons = within(canvasElement).getAllByRole('button');
    await expect(buttons.map((button) => button.getAttribute('data-state'))).toEqual([...TALK_BUTTON_STATES]);
    await expect(buttons.map((button) => button.getAttribute('aria-pressed'))).toEqual([
      'false',
      'true',
      'true',
      'true',
      'true',
      'true',
      'true',
      'true',
      'false',
      'false',
    ]);
    const alerts = within(canvasElement).getAllByRole('alert');
    await expect(alerts.map((alert) => alert.textContent)).toEqual([
      ...Array(9).fill(''),
      'The account has no credits left.',
    ]);
  },
};

/**
 * Every state again, each reached by the real controller from scripted server messages
 * (connecting: no answer yet; userSpeaking: voiceActivityStart; ended: hangup; error: 4401…).
 */
export const AllStatesScripted: Story = {
  loaders: [
    async () => ({
      conversations: await Promise.all(
        TALK_BUTTON_STATES.map(async (state) => (await conversationIn(state)).conversation),
      ),
    }),
  ],
  render: (_args, { loaded }) => (
    <div style={{ display: 'grid', gridTemplateColumns: 'max-content max-content', gap: '0.75rem 1.5rem' }}>
      {TALK_BUTTON_STATES.map((state, index) => (
        <div key={state} style={{ display: 'contents' }}>
          <code style={{ alignSelf: 'center' }}>{state}</code>
          <TalkButton conversation={(loaded.conversations as Conversation[])[index]} />
        </div>
      ))}
    </div>
  ),
  play: async ({ canvasElement }) => {
    const buttons = within(canvasElement).getAllByRole('button');
    await expect(buttons.map((button) => button.getAttribute('data-state'))).toEqual([...TALK_BUTTON_STATES]);
  },
};

export const ErrorAnnounced: Story = {
  render: () => <TalkButton conversation={createFakeConversation(STATE_OF.error)} />,
  play: async ({ canvasElement }) => {
    const button = within(canvasElement).getByRole('button', { name: 'Try again' });
    await expect(button).toHaveAccessibleDescription('The account has no credits left.');
  },
};

export const Translated: Story = {
  render: () => (
    <TalkButton
      conversation={createFakeConversation()}
      labels={{
        idle: 'Gespräch beginnen',
        connecting: 'Verbinde…',
        listening: 'Gespräch beenden',
        userSpeaking: 'Gespräch beenden',
        thinking: 'Gespräch beenden',
        agentSpeaking: 'Gespräch beenden',
        reconnecting: 'Verbinde erneut…',
        ended: 'Neues Gespräch',
        error: 'Erneut versuchen',
      }}
    />
  ),
  play: async ({ canvasElement }) => {
    const button = within(canvasElement).getByRole('button', { name: 'Gespräch beginnen' });
    button.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(button).toHaveAccessibleName('Verbinde…'));
  },
};

export const AsChild: Story = {
  render: () => (
    <TalkButton conversation={createFakeConversation()} asChild>
      <button type="button" className="my-button" style={{ fontSize: '1.25rem' }}>
        🎙️ Talk to us
      </button>
    </TalkButton>
  ),
  play: async ({ canvasElement }) => {
    const button = within(canvasElement).getByRole('button', { name: /Talk to us/ });
    await expect(button).toHaveClass('my-button');
    await userEvent.click(button);
    await waitFor(() => expect(button).toHaveAttribute('data-state', 'connecting'));
  },
};

/**
 * Push-to-talk (`turnTaking: 'pushToTalk'`): in a call the button is a hold control labelled
 * "Hold to talk"; pressed (`aria-pressed`, `data-talking`) while the pointer is down or Space is held.
 */
export const HoldToTalk: Story = {
  render: () => (
    <TalkButton
      conversation={createFakeConversation({
        status: 'connected',
        mode: 'listening',
        turnTaking: 'pushToTalk',
      })}
    />
  ),
  play: async ({ canvasElement }) => {
    const button = within(canvasElement).getByRole('button', { name: 'Hold to talk' });
    await expect(button).toHaveAttribute('aria-pressed', 'false');
    button.focus();
    button.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', code: 'Space', bubbles: true }));
    await waitFor(() => expect(button).toHaveAttribute('aria-pressed', 'true'));
    await expect(button).toHaveAttribute('data-talking', 'true');
    button.dispatchEvent(new KeyboardEvent('keyup', { key: ' ', code: 'Space', bubbles: true }));
    await waitFor(() => expect(button).toHaveAttribute('aria-pressed', 'false'));
    // Still in the call: the release did not end it.
    await expect(button).toHaveAccessibleName('Hold to talk');
  },
};

/** Held: what the user sees while talking. */
export const HoldToTalkPressed: Story = {
  render: () => (
    <TalkButton
      conversation={createFakeConversation({
        status: 'connected',
        mode: 'userSpeaking',
        turnTaking: 'pushToTalk',
        talking: true,
      })}
    />
  ),
  play: async ({ canvasElement }) => {
    await expect(within(canvasElement).getByRole('button', { name: 'Hold to talk' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
  },
};

/** The agent hung up and its goodbye is still playing (`ending`): a press ends it at once. */
export const Draining: Story = {
  loaders: [async () => ({ test: await conversationIn('ending') })],
  render: (_args, { loaded }) => (
    <TalkButton conversation={(loaded.test as { conversation: Conversation }).conversation} />
  ),
  play: async ({ canvasElement }) => {
    const button = within(canvasElement).getByRole('button');
    await expect(button).toHaveAttribute('data-state', 'ending');
    await userEvent.click(button);
    await waitFor(() => expect(button).toHaveAttribute('data-state', 'ended'));
  },
};
