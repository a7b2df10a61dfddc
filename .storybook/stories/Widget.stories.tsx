import type { Meta, StoryObj } from '@storybook/react-vite';
import type { TestConversation } from '@voicewire/core/testing';
import {
  AgentConversationProvider,
  AudioLevel,
  TalkButton,
  Transcript,
  useAgentConversationContext,
} from '@voicewire/react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { conversationIn, settle, speechChunk } from './scripted.ts';

function Status() {
  const { status, mode } = useAgentConversationContext();
  return (
    <p role="status" style={{ margin: 0 }}>
      {status === 'connected' ? mode : status}
    </p>
  );
}

function Widget() {
  return (
    <div style={{ display: 'grid', gap: '0.75rem', maxWidth: 420 }}>
      <div style={{ display: 'flex', gap: '0.75rem', alignItems: 'center' }}>
        <TalkButton />
        <Status />
      </div>
      <div
        style={{
          display: 'grid',
          gap: '0.5rem',
          gridTemplateColumns: 'max-content 1fr',
          alignItems: 'center',
        }}
      >
        <span>You</span>
        <AudioLevel source="input" />
        <span>Agent</span>
        <AudioLevel source="output" />
      </div>
      <Transcript emptyState="Press the button and say hello." style={{ maxHeight: 240 }} />
    </div>
  );
}

const meta = {
  title: 'Widget',
  component: Widget,
} satisfies Meta<typeof Widget>;
export default meta;
type Story = StoryObj<typeof meta>;

/**
 * A whole conversation against a scripted server: greeting, the user's question, the answer, a
 * barge-in, and the agent hanging up. The real controller runs; only the network and the audio
 * devices are stand-ins.
 */
export const ScriptedConversation: Story = {
  loaders: [async () => ({ test: await conversationIn('idle') })],
  render: (_args, { loaded }) => {
    const { conversation } = loaded.test as TestConversation;
    return (
      <AgentConversationProvider conversation={conversation}>
        <Widget />
      </AgentConversationProvider>
    );
  },
  play: async ({ canvasElement, loaded, step }) => {
    const { server, audio } = loaded.test as TestConversation;
    const canvas = within(canvasElement);
    const button = canvas.getByRole('button', { name: 'Start conversation' });
    const log = canvas.getByRole('log');

    await step('start: one socket, setup first, then listening', async () => {
      await userEvent.click(button);
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'listening'));
      await expect(server.sockets).toHaveLength(1);
      await expect(server.received()[0]?.type).toBe('setup');
      await expect(canvas.getByRole('status')).toHaveTextContent('listening');
    });

    await step('the agent greets; its voice shows on the output meter', async () => {
      server.greet('Hello! I am the voicewire demo agent.', [speechChunk()]);
      await settle();
      audio.player?.setLevel(0.3);
      audio.player?.emitStarted();
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'agentSpeaking'));
      await expect(log).toHaveTextContent('Agent: Hello! I am the voicewire demo agent.');
      const agentMeter = canvas.getByRole('meter', { name: 'Agent voice level' });
      await waitFor(() => expect(Number(agentMeter.getAttribute('aria-valuenow'))).toBeGreaterThan(50));
      audio.player?.setLevel(0);
      audio.player?.emitDrained();
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'listening'));
    });

    await step('the user asks, the agent answers', async () => {
      audio.capture?.setLevel(0.2);
      server.serverSend({ type: 'voiceActivityStart' });
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'userSpeaking'));
      const micMeter = canvas.getByRole('meter', { name: 'Microphone level' });
      await waitFor(() => expect(Number(micMeter.getAttribute('aria-valuenow'))).toBeGreaterThan(0));
      server.serverSend({ type: 'voiceActivityEnd' });
      server.serverSend({ type: 'onUserTranscript', message: 'What is the weather like?' });
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'thinking'));
      server.agentSays('It is sunny all day, with a light breeze from the west.', [speechChunk()]);
      await settle();
      audio.player?.emitStarted();
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'agentSpeaking'));
      await expect(log).toHaveTextContent('You: What is the weather like?');
    });

    await step('the user barges in: the agent turn is marked interrupted', async () => {
      server.interrupt('It is sunny all day');
      await waitFor(() => expect(log.querySelector('[data-interrupted]')).not.toBeNull());
      await expect(log.querySelector('[data-interrupted]')).toHaveTextContent(
        'It is sunny all day (interrupted)',
      );
      await expect(audio.player?.calls).toContain('interrupt');
    });

    await step('the agent hangs up', async () => {
      server.hangup();
      await waitFor(() => expect(button).toHaveAttribute('data-state', 'ended'));
      await expect(button).toHaveAttribute('aria-pressed', 'false');
      await expect(canvas.getByRole('meter', { name: 'Agent voice level' })).toHaveAttribute(
        'data-state',
        'inactive',
      );
    });
  },
};

/** The agent refuses the key: the error is announced and the button offers to try again. */
export const RefusedKey: Story = {
  loaders: [async () => ({ test: await conversationIn('error') })],
  render: (_args, { loaded }) => (
    <AgentConversationProvider conversation={(loaded.test as TestConversation).conversation}>
      <Widget />
    </AgentConversationProvider>
  ),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const button = canvas.getByRole('button', { name: 'Try again' });
    await expect(button).toHaveAttribute('data-state', 'error');
    const alert = canvas.getByRole('alert');
    await expect(alert).toHaveAttribute('data-kind', 'unauthorized');
    await expect(alert.textContent?.length).toBeGreaterThan(0);
    await expect(button).toHaveAccessibleDescription(alert.textContent ?? '');
  },
};

/**
 * Wired to the local agent: run `npm run demo` (or `pnpm agent`) first, then talk. Left out of
 * the tests (tag `live`): it needs a microphone and the agent at ws://127.0.0.1:8787.
 */
export const LocalAgent: Story = {
  tags: ['live', '!test'],
  render: () => (
    <AgentConversationProvider agentId="demo-agent" url="ws://127.0.0.1:8787/v1/talk">
      <Widget />
    </AgentConversationProvider>
  ),
};
