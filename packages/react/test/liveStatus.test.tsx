import { act, render, screen, waitFor } from '@testing-library/react';
import type { ConversationStatus, MediaDevicesLike } from '@voicewire/core';
import { AudioLevel, AudioVisualizer, DeviceSelect, TalkButton } from '@voicewire/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFakeConversation } from './fakeConversation.ts';
import { stubAnimationFrames, stubReducedMotion } from './rafStub.ts';

/**
 * "Is the call live" has one answer for every component: connecting, connected, reconnecting and
 * ending (the agent's last words still playing) are live; idle, ended and error are not.
 */
const LIVE: Record<ConversationStatus, boolean> = {
  idle: false,
  connecting: true,
  connected: true,
  reconnecting: true,
  ending: true,
  ended: false,
  error: false,
};

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('every component agrees on which statuses are live', () => {
  for (const [status, live] of Object.entries(LIVE) as [ConversationStatus, boolean][]) {
    it(`${status}: ${live ? 'live' : 'not live'}`, () => {
      stubReducedMotion(false);
      const frames = stubAnimationFrames();
      const conversation = createFakeConversation();
      render(
        <>
          <TalkButton conversation={conversation} />
          <AudioLevel conversation={conversation} />
          <AudioVisualizer conversation={conversation} />
        </>,
      );
      act(() => conversation.set({ status }));
      expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', String(live));
      const state = live ? 'active' : 'inactive';
      expect(screen.getByRole('meter')).toHaveAttribute('data-state', state);
      expect(screen.getByRole('img')).toHaveAttribute('data-state', state);
      // One animation loop per animated component while live, none otherwise.
      expect(frames.pending).toBe(live ? 2 : 0);
    });
  }
});

describe('the shared animation loop', () => {
  it('under reduced motion with no updates allowed, the meter holds still at empty', () => {
    stubReducedMotion(true);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation({ status: 'connected' });
    render(<AudioLevel conversation={conversation} reducedMotionFps={0} />);
    const meter = screen.getByRole('meter');
    expect(meter).toHaveAttribute('data-state', 'static');
    expect(frames.pending).toBe(0);
    conversation.inputLevel = 1;
    expect(conversation.levelReads).toBe(0);
    expect(meter).toHaveAttribute('aria-valuenow', '0');
  });

  it('the visualiser holds still under reduced motion, the meter updates a few times a second', () => {
    stubReducedMotion(true);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation({ status: 'connected' });
    render(
      <>
        <AudioLevel conversation={conversation} />
        <AudioVisualizer conversation={conversation} />
      </>,
    );
    expect(screen.getByRole('img')).toHaveAttribute('data-state', 'static');
    expect(screen.getByRole('meter')).toHaveAttribute('data-state', 'active');
    expect(frames.pending).toBe(1);
  });

  it('a meter back from a call shows empty, and its loop is gone', () => {
    stubReducedMotion(false);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation({ status: 'connected' });
    render(<AudioLevel conversation={conversation} />);
    conversation.inputLevel = 1;
    frames.frame();
    expect(screen.getByRole('meter')).toHaveAttribute('aria-valuenow', '100');
    act(() => conversation.set({ status: 'ended' }));
    expect(screen.getByRole('meter')).toHaveAttribute('aria-valuenow', '0');
    expect(frames.pending).toBe(0);
  });
});

describe('<DeviceSelect> while a call starts', () => {
  it('lists the devices again at each live step, so names granted by the call appear', async () => {
    let listings = 0;
    let granted = false;
    const media: MediaDevicesLike = {
      enumerateDevices: async () => {
        listings += 1;
        return [
          {
            kind: 'audioinput',
            deviceId: 'usb',
            label: granted ? 'USB headset' : '',
            groupId: '',
            toJSON: () => ({}),
          } as MediaDeviceInfo,
        ];
      },
      addEventListener: () => {},
      removeEventListener: () => {},
    } as unknown as MediaDevicesLike;
    const conversation = createFakeConversation();
    render(<DeviceSelect conversation={conversation} kind="audioinput" mediaDevices={media} />);
    await waitFor(() => expect(listings).toBeGreaterThan(0));
    expect(screen.queryByRole('option', { name: 'USB headset' })).toBeNull();
    const before = listings;
    act(() => conversation.set({ status: 'connecting' }));
    await waitFor(() => expect(listings).toBe(before + 1));
    // The permission is granted after the socket opened, before the agent answered.
    granted = true;
    act(() => conversation.set({ status: 'connected' }));
    await waitFor(() => expect(screen.getByRole('option', { name: 'USB headset' })).toBeInTheDocument());
    expect(listings).toBe(before + 2);
  });
});
