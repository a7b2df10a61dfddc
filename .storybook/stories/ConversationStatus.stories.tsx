import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ConversationState } from '@voicewire/core';
import { ConversationStatus } from '@voicewire/react';
import { expect, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';

const MOMENTS: [string, Partial<ConversationState>][] = [
  ['connecting', { status: 'connecting' }],
  ['listening', { status: 'connected', mode: 'listening' }],
  ['agent speaking', { status: 'connected', mode: 'agentSpeaking' }],
  ['reconnecting', { status: 'reconnecting' }],
  ['ended', { status: 'ended' }],
];

/**
 * A polite live region (`role="status"`) announcing the conversation's moments, once per
 * change. Visually hidden by default; `visuallyHidden={false}` shows it as a status line
 * (`--voicewire-muted-fg`, `--voicewire-font`).
 */
const meta = {
  title: 'Components/ConversationStatus',
  component: ConversationStatus,
  parameters: componentDocs(
    'A polite live region (`role="status"`) announcing connecting, listening, agent speaking, reconnecting, ending and ended: once per change, never per frame. Visually hidden unless `visuallyHidden={false}`.',
    ['--voicewire-muted-fg'],
  ),
  args: { visuallyHidden: false },
} satisfies Meta<typeof ConversationStatus>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Every announcement, shown (`visuallyHidden={false}`). */
export const AllMoments: Story = {
  render: (args) => (
    <dl style={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '0.5rem 1.5rem', margin: 0 }}>
      {MOMENTS.map(([name, state]) => (
        <div key={name} style={{ display: 'contents' }}>
          <dt>
            <code>{name}</code>
          </dt>
          <dd style={{ margin: 0 }}>
            <ConversationStatus {...args} conversation={createFakeConversation(state)} />
          </dd>
        </div>
      ))}
    </dl>
  ),
  play: async ({ canvasElement }) => {
    const regions = within(canvasElement).getAllByRole('status');
    await expect(regions.map((r) => r.textContent)).toEqual([
      'Connecting…',
      'Listening',
      'Agent speaking',
      'Reconnecting…',
      'Conversation ended',
    ]);
  },
};

/** The default: heard, not seen. */
export const VisuallyHidden: Story = {
  args: { visuallyHidden: true },
  render: (args) => (
    <ConversationStatus {...args} conversation={createFakeConversation({ status: 'connected' })} />
  ),
  play: async ({ canvasElement }) => {
    await expect(within(canvasElement).getByRole('status')).toHaveTextContent('Listening');
  },
};
