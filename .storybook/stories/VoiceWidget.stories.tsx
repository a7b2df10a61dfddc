import type { Meta, StoryObj } from '@storybook/react-vite';
import { VoiceWidget } from '@voicewire/react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';
import { conversationIn } from './scripted.ts';

/**
 * The whole experience in one tag: a launcher, then a panel with the talk button, the status,
 * the visualiser, the transcript and (with `devicePickers`) device pickers. Themed by the same
 * CSS variables as the parts, plus `--voicewire-widget-width` and `--voicewire-widget-z-index`.
 */
const meta = {
  title: 'Components/VoiceWidget',
  component: VoiceWidget,
  parameters: componentDocs(
    'The whole experience in one tag: a launcher that opens a panel with the talk button, status, visualiser, transcript and optional device pickers. Keyboard-operable and focus-managed; fits a 360 px phone.',
    [
      '--voicewire-widget-width',
      '--voicewire-widget-z-index',
      '--voicewire-accent',
      '--voicewire-accent-fg',
      '--voicewire-live',
      '--voicewire-border',
    ],
  ),
  args: { placement: 'inline', title: 'Voice assistant', launcherLabel: 'Talk to us' },
} satisfies Meta<typeof VoiceWidget>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Closed: only the launcher. Opening focuses the talk button; Escape closes and refocuses the launcher. */
export const Closed: Story = {
  render: (args) => <VoiceWidget {...args} conversation={createFakeConversation()} />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const launcher = canvas.getByRole('button', { name: 'Talk to us' });
    await expect(launcher).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(launcher);
    await expect(launcher).toHaveAttribute('aria-expanded', 'true');
    await waitFor(() => expect(canvas.getByRole('button', { name: 'Start conversation' })).toHaveFocus());
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(launcher).toHaveFocus());
    await expect(launcher).toHaveAttribute('aria-expanded', 'false');
  },
};

/** Open in the middle of a call: the agent answering, the transcript, the visualiser live. */
export const OpenInACall: Story = {
  loaders: [async () => ({ test: await conversationIn('agentSpeaking') })],
  render: (args, { loaded }) => <VoiceWidget {...args} defaultOpen conversation={loaded.test.conversation} />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await expect(canvas.getByRole('region', { name: 'Voice assistant' })).toBeVisible();
    await expect(canvas.getByRole('button', { name: 'End conversation' })).toBeVisible();
  },
};

export const WithDevicePickers: Story = {
  args: { devicePickers: true },
  render: (args) => <VoiceWidget {...args} defaultOpen conversation={createFakeConversation()} />,
};

/** On a 360 px wide phone. */
export const Phone: Story = {
  globals: { viewport: { value: 'mobile1' } },
  render: (args) => (
    <div style={{ width: 360 }}>
      <VoiceWidget {...args} defaultOpen conversation={createFakeConversation({ status: 'connected' })} />
    </div>
  ),
};
