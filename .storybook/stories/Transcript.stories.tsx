import type { Meta, StoryObj } from '@storybook/react-vite';
import type { TranscriptTurn } from '@voicewire/core';
import { Transcript } from '@voicewire/react';
import { expect, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';

const TURNS: TranscriptTurn[] = [
  {
    id: 't1',
    role: 'agent',
    text: 'Hi! I am the voicewire demo agent. What can I do for you?',
    interrupted: false,
  },
  { id: 't2', role: 'user', text: 'Tell me about the weather tomorrow.', interrupted: false },
  { id: 't3', role: 'agent', text: 'Tomorrow looks bright, with a light breeze from', interrupted: true },
  { id: 't4', role: 'user', text: 'Sorry, and in the evening?', interrupted: false },
];

const meta = {
  title: 'Components/Transcript',
  component: Transcript,
  parameters: componentDocs(
    'The conversation\'s turns in a `role="log"` live region that follows new turns unless the reader scrolled up.',
    [
      '--voicewire-user-bg',
      '--voicewire-agent-bg',
      '--voicewire-border',
      '--voicewire-muted-fg',
      '--voicewire-gap',
      '--voicewire-transcript-max-height',
    ],
  ),
} satisfies Meta<typeof Transcript>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Empty: Story = {
  render: () => (
    <Transcript conversation={createFakeConversation()} emptyState="Press the button and say hello." />
  ),
  play: async ({ canvasElement }) => {
    const log = within(canvasElement).getByRole('log', { name: 'Conversation transcript' });
    await expect(log).toHaveAttribute('data-state', 'empty');
    await expect(log).toHaveTextContent('Press the button and say hello.');
  },
};

export const WithTurns: Story = {
  render: () => <Transcript conversation={createFakeConversation({ transcript: TURNS })} />,
  play: async ({ canvasElement }) => {
    const log = within(canvasElement).getByRole('log');
    const turns = log.querySelectorAll('[data-role]');
    await expect([...turns].map((turn) => turn.getAttribute('data-role'))).toEqual([
      'agent',
      'user',
      'agent',
      'user',
    ]);
    await expect(turns[2]).toHaveAttribute('data-interrupted');
    await expect(turns[2]).toHaveTextContent('(interrupted)');
  },
};

export const CustomRender: Story = {
  render: () => (
    <Transcript
      conversation={createFakeConversation({ transcript: TURNS })}
      renderTurn={(turn) => (
        <p data-role={turn.role} style={{ margin: 0 }}>
          <strong>{turn.role === 'user' ? '🧑' : '🤖'}</strong> {turn.text}
          {turn.interrupted ? ' …' : ''}
        </p>
      )}
    />
  ),
};

/** New turns keep arriving; the log follows them until the reader scrolls up. */
export const FollowsNewTurns: Story = {
  render: function Render() {
    const conversation = createFakeConversation({ transcript: TURNS });
    (globalThis as { storyConversation?: unknown }).storyConversation = conversation;
    return <Transcript conversation={conversation} style={{ maxHeight: 160 }} />;
  },
  play: async ({ canvasElement }) => {
    const conversation = (globalThis as { storyConversation?: ReturnType<typeof createFakeConversation> })
      .storyConversation!;
    const log = within(canvasElement).getByRole('log');
    const more = (n: number): TranscriptTurn[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `m${i}`,
        role: i % 2 ? 'user' : 'agent',
        text: `Turn number ${i + 1}, long enough to take a line or two in the log.`,
        interrupted: false,
      }));
    conversation.set({ transcript: [...TURNS, ...more(6)] });
    await waitFor(() =>
      expect(log.scrollTop + log.clientHeight).toBeGreaterThanOrEqual(log.scrollHeight - 1),
    );
    log.scrollTop = 0;
    log.dispatchEvent(new Event('scroll'));
    conversation.set({ transcript: [...TURNS, ...more(8)] });
    await new Promise((resolve) => requestAnimationFrame(resolve));
    await expect(log.scrollTop).toBe(0);
  },
};
