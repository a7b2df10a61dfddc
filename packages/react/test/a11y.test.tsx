import { act, render, screen, waitFor } from '@testing-library/react';
import { createTestConversation } from '@voicewire/core/testing';
import { AgentConversationProvider, AudioLevel, TalkButton, Transcript } from '@voicewire/react';
import { describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';

function Widget() {
  return (
    <main>
      <TalkButton />
      <AudioLevel source="input" />
      <AudioLevel source="output" />
      <Transcript emptyState="Say hello." />
    </main>
  );
}

describe('the whole widget with the real controller', () => {
  it('has no axe violations idle, mid-conversation (with an interrupted turn) and after an error', async () => {
    const { conversation, server } = createTestConversation();
    const { container } = render(
      <AgentConversationProvider conversation={conversation}>
        <Widget />
      </AgentConversationProvider>,
    );
    expect(await axeViolations(container)).toEqual([]);

    await act(() => screen.getByRole('button', { name: 'Start conversation' }).click());
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('data-state', 'listening'));
    act(() => {
      server.greet('Hello, how can I help?');
      server.userSays('Tell me a story.');
      server.agentSays('Once upon a time, in a land far away');
      server.interrupt('Once upon a time');
    });
    const log = screen.getByRole('log');
    expect(log.querySelectorAll('[data-role]')).toHaveLength(3);
    expect(log.querySelector('[data-interrupted]')).toHaveTextContent('Once upon a time (interrupted)');
    expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', 'true');
    expect(await axeViolations(container)).toEqual([]);

    act(() => server.error(1005, 'Not enough credits'));
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('data-state', 'error'));
    expect(screen.getByRole('alert')).toHaveAttribute('data-kind', 'insufficient-credits');
    expect(screen.getByRole('button')).toHaveAccessibleDescription(
      screen.getByRole('alert').textContent ?? '',
    );
    expect(await axeViolations(container)).toEqual([]);
  });
});
