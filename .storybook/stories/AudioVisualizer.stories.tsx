import type { Meta, StoryObj } from '@storybook/react-vite';
import { AudioVisualizer } from '@voicewire/react';
import { expect, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { componentDocs } from './docs.ts';

/** A live conversation whose spectrum moves like speech: formant-like bumps under a syllable rhythm. */
function speakingConversation() {
  const conversation = createFakeConversation({ status: 'connected', mode: 'agentSpeaking' });
  const spectrum = (offset: number) => (bin: number) => {
    const t = performance.now() / 1000 + offset;
    const syllable = 0.35 + 0.65 * Math.abs(Math.sin(t * 7));
    const formants =
      Math.exp(-((bin - 4) ** 2) / 8) + 0.7 * Math.exp(-((bin - 12 - 3 * Math.sin(t * 2)) ** 2) / 18);
    return Math.min(255, 230 * syllable * formants + 20 * Math.random());
  };
  conversation.spectrum = { input: spectrum(1), output: spectrum(0) };
  return conversation;
}

/**
 * Bars drawn on a canvas from `conversation.getFrequencyData()` in `requestAnimationFrame`: no
 * React render per frame. Still under `prefers-reduced-motion`. CSS variables:
 * `--voicewire-visualizer-color` (or `-input-color` / `-output-color`), `--voicewire-visualizer-gap`,
 * `--voicewire-visualizer-radius`, `--voicewire-visualizer-width`, `--voicewire-visualizer-height`.
 */
const meta = {
  title: 'Components/AudioVisualizer',
  component: AudioVisualizer,
  parameters: componentDocs(
    "Bars that move with the microphone or the agent's voice, drawn on a canvas in requestAnimationFrame from `conversation.getFrequencyData()`: zero React renders per frame; still under prefers-reduced-motion.",
    [
      '--voicewire-visualizer-color',
      '--voicewire-visualizer-input-color',
      '--voicewire-visualizer-output-color',
      '--voicewire-visualizer-gap',
      '--voicewire-visualizer-radius',
      '--voicewire-visualizer-width',
      '--voicewire-visualizer-height',
    ],
  ),
  args: { source: 'output', bars: 24 },
} satisfies Meta<typeof AudioVisualizer>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Live: Story = {
  render: (args) => <AudioVisualizer {...args} conversation={speakingConversation()} />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement).getByRole('img', { name: 'Agent voice visualizer' });
    await waitFor(() => expect(canvas).toHaveAttribute('data-state', 'active'));
  },
};

export const Microphone: Story = {
  args: { source: 'input', bars: 12 },
  render: (args) => <AudioVisualizer {...args} conversation={speakingConversation()} />,
};

/** Themed: square, wide bars in another colour, through the CSS variables only. */
export const Themed: Story = {
  render: (args) => (
    <div
      style={
        {
          '--voicewire-visualizer-output-color': '#c2255c',
          '--voicewire-visualizer-gap': '0.1',
          '--voicewire-visualizer-radius': '0',
          '--voicewire-visualizer-width': '20rem',
          '--voicewire-visualizer-height': '4rem',
        } as React.CSSProperties
      }
    >
      <AudioVisualizer {...args} conversation={speakingConversation()} />
    </div>
  ),
};

/** Not in a call: resting bars, no animation frame requested. */
export const Inactive: Story = {
  render: (args) => <AudioVisualizer {...args} conversation={createFakeConversation()} />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement).getByRole('img');
    await expect(canvas).toHaveAttribute('data-state', 'inactive');
  },
};
