import type { Meta, StoryObj } from '@storybook/react-vite';
import { AudioLevel } from '@voicewire/react';
import { expect, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';

/** A live conversation whose levels move like speech: a syllable rhythm under a slow swell. */
function speakingConversation() {
  const conversation = createFakeConversation({ status: 'connected', mode: 'agentSpeaking' });
  const level = (offset: number) => {
    const t = performance.now() / 1000 + offset;
    return 0.02 + 0.25 * Math.abs(Math.sin(t * 9)) * (0.5 + 0.5 * Math.sin(t * 1.3));
  };
  Object.assign(conversation, {
    getInputLevel: () => level(0),
    getOutputLevel: () => level(2),
  });
  return conversation;
}

const meta = {
  title: 'Components/AudioLevel',
  component: AudioLevel,
  parameters: componentDocs(
    'A live level meter (`role="meter"`) of the microphone or the agent\'s voice, written straight to the DOM each animation frame: no React render per frame.',
    [
      '--voicewire-level (written by the component, 0..1)',
      '--voicewire-meter-track',
      '--voicewire-meter-fill',
      '--voicewire-meter-width',
      '--voicewire-meter-height',
      '--voicewire-radius',
    ],
  ),
} satisfies Meta<typeof AudioLevel>;
export default meta;
type Story = StoryObj<typeof meta>;

export const InputAndOutput: Story = {
  render: () => {
    const conversation = speakingConversation();
    return (
      <div
        style={{
          display: 'grid',
          gap: '0.75rem',
          gridTemplateColumns: 'max-content 1fr',
          alignItems: 'center',
        }}
      >
        <span>You</span>
        <AudioLevel conversation={conversation} source="input" />
        <span>Agent</span>
        <AudioLevel conversation={conversation} source="output" />
      </div>
    );
  },
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const mic = canvas.getByRole('meter', { name: 'Microphone level' });
    const agent = canvas.getByRole('meter', { name: 'Agent voice level' });
    await waitFor(() => expect(Number(mic.getAttribute('aria-valuenow'))).toBeGreaterThan(0));
    await waitFor(() => expect(Number(agent.getAttribute('aria-valuenow'))).toBeGreaterThan(0));
    await expect(mic).toHaveAttribute('data-state', 'active');
    await expect(Number(mic.style.getPropertyValue('--voicewire-level'))).toBeGreaterThan(0);
  },
};

export const Inactive: Story = {
  render: () => <AudioLevel conversation={createFakeConversation()} source="output" />,
  play: async ({ canvasElement }) => {
    const meter = within(canvasElement).getByRole('meter');
    await expect(meter).toHaveAttribute('data-state', 'inactive');
    await expect(meter).toHaveAttribute('aria-valuenow', '0');
  },
};
