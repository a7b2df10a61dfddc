import { act, render, screen } from '@testing-library/react';
import { AudioLevel, levelToFraction } from '@voicewire/react';
import { Profiler } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { axeViolations } from './axe.ts';
import { createFakeConversation } from './fakeConversation.ts';
import { stubAnimationFrames, stubReducedMotion } from './rafStub.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('<AudioLevel>', () => {
  it('is a named meter, 0 to 100, with no axe violations', async () => {
    stubReducedMotion(false);
    const conversation = createFakeConversation();
    const { container } = render(
      <>
        <AudioLevel conversation={conversation} source="input" />
        <AudioLevel conversation={conversation} source="output" />
      </>,
    );
    const mic = screen.getByRole('meter', { name: 'Microphone level' });
    expect(mic).toHaveAttribute('aria-valuemin', '0');
    expect(mic).toHaveAttribute('aria-valuemax', '100');
    expect(mic).toHaveAttribute('aria-valuenow', '0');
    expect(screen.getByRole('meter', { name: 'Agent voice level' })).toHaveAttribute('data-source', 'output');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('maps RMS to a decibel scale: -60 dBFS empty, 0 dBFS full', () => {
    expect(levelToFraction(0)).toBe(0);
    expect(levelToFraction(0.001)).toBeCloseTo(0, 6);
    expect(levelToFraction(0.1)).toBeCloseTo(2 / 3, 6);
    expect(levelToFraction(1)).toBe(1);
    expect(levelToFraction(0.1, -40)).toBeCloseTo(0.5, 6);
  });

  it('writes the polled level on each animation frame while live, without rendering', () => {
    stubReducedMotion(false);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation();
    let renders = 0;
    render(
      <Profiler id="meter" onRender={() => (renders += 1)}>
        <AudioLevel conversation={conversation} source="output" aria-label="Agent" />
      </Profiler>,
    );
    const meter = screen.getByRole('meter', { name: 'Agent' });
    expect(frames.pending).toBe(0); // idle: no animation loop at all
    act(() => conversation.set({ status: 'connected', mode: 'agentSpeaking' }));
    expect(meter).toHaveAttribute('data-state', 'active');
    const rendersBefore = renders;

    conversation.outputLevel = 0.1; // -20 dBFS → 2/3 of the meter
    frames.frame();
    expect(meter.style.getPropertyValue('--voicewire-level')).toBe('0.67');
    expect(meter).toHaveAttribute('aria-valuenow', '67');
    conversation.outputLevel = 1;
    frames.frame();
    expect(meter).toHaveAttribute('aria-valuenow', '100');
    // The level falls back smoothly, not in one frame.
    conversation.outputLevel = 0;
    frames.frame();
    expect(meter).toHaveAttribute('aria-valuenow', '85');
    for (let i = 0; i < 100; i += 1) frames.frame();
    expect(meter).toHaveAttribute('aria-valuenow', '0');
    expect(renders).toBe(rendersBefore);

    act(() => conversation.set({ status: 'ended' }));
    expect(meter).toHaveAttribute('data-state', 'inactive');
    expect(frames.pending).toBe(0);
  });

  it('with prefers-reduced-motion, updates a few times a second instead of every frame', () => {
    stubReducedMotion(true);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation({ status: 'connected' });
    render(<AudioLevel conversation={conversation} />);
    const meter = screen.getByRole('meter');
    conversation.inputLevel = 1;
    conversation.levelReads = 0;
    for (let i = 0; i < 60; i += 1) frames.frame(); // one second at 60 fps
    expect(conversation.levelReads).toBe(4);
    expect(meter).toHaveAttribute('aria-valuenow', '100');
  });

  it('stops polling when unmounted', () => {
    stubReducedMotion(false);
    const frames = stubAnimationFrames();
    const conversation = createFakeConversation({ status: 'connected' });
    const { unmount } = render(<AudioLevel conversation={conversation} />);
    expect(frames.pending).toBe(1);
    unmount();
    expect(frames.pending).toBe(0);
  });
});
