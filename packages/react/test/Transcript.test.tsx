import { act, render, screen, within } from '@testing-library/react';
import type { TranscriptTurn } from '@voicewire/core';
import { AgentConversationProvider, Transcript } from '@voicewire/react';
import { describe, expect, it, vi } from 'vitest';
import { axeViolations } from './axe.ts';
import { createFakeConversation } from './fakeConversation.ts';

const TURNS: TranscriptTurn[] = [
  { id: 't1', role: 'agent', text: 'Hello! How can I help?', interrupted: false },
  { id: 't2', role: 'user', text: 'What is the weather like?', interrupted: false },
  { id: 't3', role: 'agent', text: 'It is sunny and', interrupted: true },
];

describe('<Transcript>', () => {
  it('is a polite log named for what it holds, with no axe violations', async () => {
    const conversation = createFakeConversation({ transcript: TURNS });
    const { container } = render(<Transcript conversation={conversation} />);
    const log = screen.getByRole('log', { name: 'Conversation transcript' });
    expect(log).toHaveAttribute('aria-live', 'polite');
    expect(log).toHaveAttribute('data-state', 'active');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('tells user and agent apart, in data-role and in text', () => {
    const conversation = createFakeConversation({ transcript: TURNS });
    render(<Transcript conversation={conversation} />);
    const log = screen.getByRole('log');
    const turns = log.querySelectorAll('[data-role]');
    expect([...turns].map((turn) => turn.getAttribute('data-role'))).toEqual(['agent', 'user', 'agent']);
    expect(turns[0]).toHaveTextContent('Agent: Hello! How can I help?');
    expect(turns[1]).toHaveTextContent('You: What is the weather like?');
  });

  it('marks an interrupted turn', () => {
    const conversation = createFakeConversation({ transcript: TURNS });
    render(<Transcript conversation={conversation} labels={{ interrupted: 'unterbrochen' }} />);
    const turns = screen.getByRole('log').querySelectorAll('[data-role]');
    expect(turns[2]).toHaveAttribute('data-interrupted');
    expect(turns[2]).toHaveTextContent('It is sunny and (unterbrochen)');
    expect(turns[1]).not.toHaveAttribute('data-interrupted');
  });

  it('shows the empty state until the first turn, then the turns as they arrive', () => {
    const conversation = createFakeConversation();
    render(<Transcript conversation={conversation} emptyState={<p>Say hello to start.</p>} />);
    const log = screen.getByRole('log');
    expect(log).toHaveAttribute('data-state', 'empty');
    expect(within(log).getByText('Say hello to start.')).toBeInTheDocument();
    act(() => conversation.set({ transcript: TURNS.slice(0, 1) }));
    expect(within(log).queryByText('Say hello to start.')).toBeNull();
    expect(log).toHaveTextContent('Hello! How can I help?');
    act(() => conversation.set({ transcript: TURNS }));
    expect(log.querySelectorAll('[data-role]')).toHaveLength(3);
  });

  it('renders turns through renderTurn', () => {
    const conversation = createFakeConversation({ transcript: TURNS });
    render(
      <Transcript
        conversation={conversation}
        renderTurn={(turn, index) => (
          <p data-role={turn.role} data-testid="turn">
            {index + 1}. {turn.text.toUpperCase()}
          </p>
        )}
      />,
    );
    const turns = screen.getAllByTestId('turn');
    expect(turns.map((turn) => turn.textContent)).toEqual([
      '1. HELLO! HOW CAN I HELP?',
      '2. WHAT IS THE WEATHER LIKE?',
      '3. IT IS SUNNY AND',
    ]);
  });

  it('follows new turns at the bottom, and stops following once the reader scrolls up', () => {
    const conversation = createFakeConversation({ transcript: TURNS.slice(0, 1) });
    render(<Transcript conversation={conversation} />);
    const log = screen.getByRole('log');
    // jsdom has no layout: give the log a 100 px viewport over content that grows.
    let contentHeight = 300;
    Object.defineProperty(log, 'clientHeight', { configurable: true, get: () => 100 });
    Object.defineProperty(log, 'scrollHeight', { configurable: true, get: () => contentHeight });

    contentHeight = 400;
    act(() => conversation.set({ transcript: TURNS.slice(0, 2) }));
    expect(log.scrollTop).toBe(400);

    log.scrollTop = 50; // the reader scrolls up to re-read
    act(() => {
      log.dispatchEvent(new Event('scroll'));
    });
    contentHeight = 500;
    act(() => conversation.set({ transcript: TURNS }));
    expect(log.scrollTop).toBe(50);

    log.scrollTop = 400; // back at the bottom (500 - 400 - 100 = 0)
    act(() => {
      log.dispatchEvent(new Event('scroll'));
    });
    contentHeight = 600;
    act(() =>
      conversation.set({
        transcript: [...TURNS, { id: 't4', role: 'user', text: 'Thanks', interrupted: false }],
      }),
    );
    expect(log.scrollTop).toBe(600);
  });

  it('reads the provider conversation, and names the provider when there is none', () => {
    const conversation = createFakeConversation({ transcript: TURNS });
    render(
      <AgentConversationProvider conversation={conversation}>
        <Transcript />
      </AgentConversationProvider>,
    );
    expect(screen.getByRole('log')).toHaveTextContent('What is the weather like?');
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Transcript />)).toThrow(/AgentConversationProvider/);
    spy.mockRestore();
  });
});
