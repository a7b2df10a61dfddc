import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { MediaDevicesLike } from '@voicewire/core';
import { ConversationStatus, DeviceSelect, VoiceWidget } from '@voicewire/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { axeViolations } from './axe.ts';
import { createFakeConversation } from './fakeConversation.ts';

function device(kind: MediaDeviceKind, deviceId: string, label: string): MediaDeviceInfo {
  return { kind, deviceId, label, groupId: '', toJSON: () => ({}) } as MediaDeviceInfo;
}

/** `navigator.mediaDevices` with devices the test plugs in and out. */
function pluggableDevices(initial: MediaDeviceInfo[]) {
  let list = initial;
  const listeners = new Set<() => void>();
  const media: MediaDevicesLike & { plug(next: MediaDeviceInfo[]): void } = {
    enumerateDevices: async () => list,
    addEventListener: ((_: string, l: () => void) =>
      listeners.add(l)) as unknown as MediaDevices['addEventListener'],
    removeEventListener: ((_: string, l: () => void) =>
      listeners.delete(l)) as unknown as MediaDevices['removeEventListener'],
    plug(next) {
      list = next;
      for (const listener of listeners) listener();
    },
  };
  return media;
}

describe('<DeviceSelect>', () => {
  it('switches the live call on a pick, falls back when the device is unplugged, returns when it is back', async () => {
    const conversation = createFakeConversation({ status: 'connected' });
    const builtIn = device('audioinput', 'default', 'Default - Built-in Microphone');
    const usb = device('audioinput', 'usb', 'USB headset');
    const media = pluggableDevices([builtIn, usb]);
    const { container } = render(
      <DeviceSelect conversation={conversation} kind="audioinput" mediaDevices={media} storageKey="mic" />,
    );
    const select = screen.getByRole('combobox', { name: 'Microphone' });
    await waitFor(() => expect(select).toBeEnabled());
    await userEvent.selectOptions(select, 'USB headset');
    await waitFor(() => expect(conversation.deviceCalls).toEqual(['input:usb']));
    expect(window.localStorage.getItem('mic')).toBe('usb');

    await act(async () => media.plug([builtIn]));
    await waitFor(() => expect(select).toHaveValue('default'));
    expect(conversation.deviceCalls).toEqual(['input:usb', 'input:default']);
    expect(select).toHaveAccessibleDescription('USB headset was disconnected; using the default microphone.');

    await act(async () => media.plug([builtIn, usb]));
    await waitFor(() => expect(select).toHaveValue('usb'));
    expect(conversation.deviceCalls).toEqual(['input:usb', 'input:default', 'input:usb']);
    expect(await axeViolations(container)).toEqual([]);
  });

  it('remembers the choice: a new page starts from the stored device', async () => {
    window.localStorage.setItem('speaker', 'usb');
    const conversation = createFakeConversation();
    const media = pluggableDevices([
      device('audiooutput', 'default', 'Default - Speakers'),
      device('audiooutput', 'usb', 'USB headset'),
    ]);
    render(
      <DeviceSelect
        conversation={conversation}
        kind="audiooutput"
        mediaDevices={media}
        outputSelectable
        storageKey="speaker"
      />,
    );
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'Speaker' })).toHaveValue('usb'));
    await waitFor(() => expect(conversation.deviceCalls).toEqual(['output:usb']));
  });
});

describe('<ConversationStatus>', () => {
  it('changes its text only when there is something new to say', async () => {
    const conversation = createFakeConversation({ status: 'connected', mode: 'listening' });
    let renders = 0;
    render(
      <ConversationStatus
        conversation={conversation}
        ref={() => {
          renders++;
        }}
      />,
    );
    const region = screen.getByRole('status');
    expect(region).toHaveTextContent('Listening');
    const before = renders;
    // The user speaks and the agent thinks: the same words, no new announcement.
    act(() => conversation.set({ mode: 'userSpeaking' }));
    act(() => conversation.set({ mode: 'thinking' }));
    act(() => conversation.set({ transcript: [{ id: 't', role: 'user', text: 'hi', interrupted: false }] }));
    expect(region).toHaveTextContent('Listening');
    act(() => conversation.set({ mode: 'agentSpeaking' }));
    expect(region).toHaveTextContent('Agent speaking');
    act(() => conversation.set({ status: 'ending' }));
    expect(region).toHaveTextContent('The agent is finishing');
    act(() => conversation.set({ status: 'ended', mode: 'listening' }));
    expect(region).toHaveTextContent('Conversation ended');
    expect(renders).toBe(before);
  });

  it('says "Hold to talk" in push-to-talk until the control is held', () => {
    const conversation = createFakeConversation({ status: 'connected', turnTaking: 'pushToTalk' });
    render(<ConversationStatus conversation={conversation} />);
    expect(screen.getByRole('status')).toHaveTextContent('Hold to talk');
    act(() => conversation.pressToTalk());
    expect(screen.getByRole('status')).toHaveTextContent('Listening');
  });
});

describe('<VoiceWidget>', () => {
  // jsdom draws nothing (no canvas backend): the visualiser gets no context, as in a browser
  // that refuses one. Its drawing is tested in real Chromium (test/features).
  beforeEach(() => {
    vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
  });

  it('opens from the keyboard, focuses the talk button, closes on Escape back to the launcher; axe passes', async () => {
    const conversation = createFakeConversation();
    const { container } = render(
      <VoiceWidget conversation={conversation} placement="inline" devicePickers />,
    );
    const launcher = screen.getByRole('button', { name: 'Talk to us' });
    expect(screen.queryByRole('region')).toBeNull();
    launcher.focus();
    await userEvent.keyboard('{Enter}');
    expect(launcher).toHaveAttribute('aria-expanded', 'true');
    const panel = screen.getByRole('region', { name: 'Voice assistant' });
    expect(launcher).toHaveAttribute('aria-controls', panel.id);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Start conversation' })).toHaveFocus());
    expect(screen.getByRole('img', { name: 'Agent voice visualizer' })).toBeInTheDocument();
    expect(screen.getByRole('log', { name: 'Conversation transcript' })).toBeInTheDocument();
    expect(await axeViolations(container)).toEqual([]);
    await userEvent.keyboard('{Escape}');
    expect(launcher).toHaveAttribute('aria-expanded', 'false');
    expect(launcher).toHaveFocus();
    // The call goes on while the panel is closed: start it, close, reopen.
    await userEvent.click(launcher);
    await userEvent.click(screen.getByRole('button', { name: 'Start conversation' }));
    await userEvent.click(screen.getByRole('button', { name: 'Close Voice assistant' }));
    expect(conversation.store.getState().status).toBe('connecting');
    expect(launcher).toHaveFocus();
  });
});
