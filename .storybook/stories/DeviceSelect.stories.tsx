import type { Meta, StoryObj } from '@storybook/react-vite';
import { DeviceSelect } from '@voicewire/react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { createFakeConversation } from '../../packages/react/test/fakeConversation.ts';
import { storyMediaDevices } from './devices.ts';
import { componentDocs } from './docs.ts';

/**
 * A labelled `<select>` of microphones (`kind="audioinput"`) or speakers (`kind="audiooutput"`)
 * that switches the conversation's device mid-call. Reads `--voicewire-fg`, `--voicewire-bg`,
 * `--voicewire-border`, `--voicewire-muted-fg` and `--voicewire-focus-ring`.
 */
const meta = {
  title: 'Components/DeviceSelect',
  component: DeviceSelect,
  parameters: componentDocs(
    "A labelled select of microphones or speakers that switches the call's device mid-call, follows hot-plug, falls back when the chosen device goes away, and explains itself where output cannot be chosen.",
    ['--voicewire-border', '--voicewire-muted-fg'],
  ),
  args: { kind: 'audioinput' },
} satisfies Meta<typeof DeviceSelect>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Permission granted: the devices' real names; picking one switches the live call's microphone. */
export const Microphones: Story = {
  render: () => {
    const conversation = createFakeConversation({ status: 'connected' });
    return (
      <DeviceSelect conversation={conversation} kind="audioinput" mediaDevices={storyMediaDevices(true)} />
    );
  },
  play: async ({ canvasElement }) => {
    const select = within(canvasElement).getByRole('combobox', { name: 'Microphone' });
    await waitFor(() => expect(select).toBeEnabled());
    await expect(within(select).getAllByRole('option')).toHaveLength(3);
    await userEvent.selectOptions(select, 'Jabra Evolve2 65');
    await expect(select).toHaveValue('usb-headset');
  },
};

export const Speakers: Story = {
  render: () => (
    <DeviceSelect
      conversation={createFakeConversation({ status: 'connected' })}
      kind="audiooutput"
      mediaDevices={storyMediaDevices(true)}
      outputSelectable
    />
  ),
  play: async ({ canvasElement }) => {
    const select = within(canvasElement).getByRole('combobox', { name: 'Speaker' });
    await waitFor(() => expect(within(select).getAllByRole('option')).toHaveLength(2));
  },
};

/** Before the microphone is allowed, browsers hide device names: say so, and offer to ask. */
export const WithoutPermission: Story = {
  render: () => (
    <DeviceSelect
      conversation={createFakeConversation()}
      kind="audioinput"
      mediaDevices={storyMediaDevices(false)}
    />
  ),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await waitFor(() => expect(canvas.getByText(/Device names appear/)).toBeVisible());
    await expect(canvas.getByRole('button', { name: 'Show device names' })).toBeVisible();
    await expect(canvas.getByRole('combobox')).toHaveAccessibleDescription(/Device names appear/);
  },
};

/** Where the browser cannot route output (no `setSinkId`): disabled, with the reason. */
export const OutputNotSupported: Story = {
  render: () => (
    <DeviceSelect
      conversation={createFakeConversation()}
      kind="audiooutput"
      mediaDevices={storyMediaDevices(true)}
      outputSelectable={false}
    />
  ),
  play: async ({ canvasElement }) => {
    const select = within(canvasElement).getByRole('combobox', { name: 'Speaker' });
    await waitFor(() => expect(select).toHaveAccessibleDescription(/system settings/));
    await expect(select).toBeDisabled();
  },
};
