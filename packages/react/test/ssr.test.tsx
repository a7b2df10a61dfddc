// @vitest-environment node
import {
  AgentConversationProvider,
  AudioLevel,
  TalkButton,
  Transcript,
  useAgentConversation,
} from '@voicewire/react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { createFakeConversation } from './fakeConversation.ts';

const OPTIONS = { url: 'ws://127.0.0.1:8787/v1/talk' };

function Widget() {
  const { status, transcript } = useAgentConversation({ agentId: 'agent-1', ...OPTIONS });
  return (
    <p data-testid="status">
      {status} {transcript.length}
    </p>
  );
}

/** Owns a conversation and binds every component to it through the `conversation` prop. */
function Owned() {
  const { conversation } = useAgentConversation({ agentId: 'agent-1', ...OPTIONS });
  return (
    <>
      <TalkButton conversation={conversation} />
      <Transcript conversation={conversation} emptyState="Nothing yet" />
      <AudioLevel conversation={conversation} source="output" />
    </>
  );
}

describe('server-side rendering (Node, no browser globals)', () => {
  it('runs where there is no window, document or navigator', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
  });

  it('renders every component given the conversation of useAgentConversation, in the idle state', () => {
    const html = renderToString(<Owned />);
    expect(html).toMatch(
      /<button[^>]*aria-pressed="false"[^>]*data-state="idle"[^>]*>Start conversation<\/button>/,
    );
    expect(html).toMatch(/role="log"[^>]*aria-live="polite"[^>]*data-state="empty"[^>]*>Nothing yet</);
    expect(html).toMatch(/role="meter"[^>]*aria-label="Agent voice level"[^>]*aria-valuenow="0"/);
    expect(html).toContain('--voicewire-level:0');
  });

  it('renders every component bound to a provider, in the idle state', () => {
    const html = renderToString(
      <AgentConversationProvider agentId="agent-1" {...OPTIONS}>
        <TalkButton />
        <Transcript />
        <AudioLevel />
      </AgentConversationProvider>,
    );
    expect(html).toContain('data-state="idle"');
    expect(html).toContain('Start conversation');
    expect(html).toContain('role="log"');
    expect(html).toContain('aria-label="Microphone level"');
  });

  it('renders components bound through the conversation prop', () => {
    const conversation = createFakeConversation();
    const html = renderToString(
      <>
        <TalkButton conversation={conversation} />
        <Transcript conversation={conversation} />
        <AudioLevel conversation={conversation} />
      </>,
    );
    expect(html).toContain('data-state="idle"');
    expect(conversation.socketsOpened).toBe(0);
  });

  it('renders the hook idle', () => {
    expect(renderToString(<Widget />)).toContain('idle<!-- --> <!-- -->0');
  });
});
