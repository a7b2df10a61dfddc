import { act, screen } from '@testing-library/react';
import { AgentConversationProvider, AudioLevel, TalkButton, Transcript } from '@voicewire/react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

function App() {
  return (
    <AgentConversationProvider agentId="agent-1" url="ws://127.0.0.1:8787/v1/talk">
      <TalkButton />
      <Transcript emptyState="Nothing yet" />
      <AudioLevel source="output" />
    </AgentConversationProvider>
  );
}

describe('hydration', () => {
  it('hydrates the server HTML without a mismatch and without starting anything', async () => {
    const html = renderToString(<App />);
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const recoverable = vi.fn();
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, <App />, { onRecoverableError: recoverable });
    });
    expect(recoverable).not.toHaveBeenCalled();
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    const button = screen.getByRole('button', { name: 'Start conversation' });
    expect(button).toHaveAttribute('data-state', 'idle');
    expect(button).toHaveAccessibleDescription('');
    expect(screen.getByRole('log')).toHaveTextContent('Nothing yet');
    act(() => root!.unmount());
    container.remove();
  });
});
