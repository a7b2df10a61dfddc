import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { openaiRealtime } from '@voicewire/core/openai';
import { playai } from '@voicewire/core/playai';
import { createFakeAudio, FakeAudioContext, FakeWebSocket } from '@voicewire/core/testing';
import {
  AgentConversationProvider,
  type ConversationOptions,
  type Provider,
  TalkButton,
  Transcript,
  useAgentConversationContext,
  VoiceWidget,
} from '@voicewire/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * One option switches the service, every component stays: `<VoiceWidget provider>` and
 * `<AgentConversationProvider provider>` with the real conversation and the real providers, on an
 * in-memory socket that records what a server would see (URL, subprotocols, frames) and plays
 * the vendor's side. The real wire is tested in core (test/providers) and in the browser suites.
 */

/** A socket that also keeps the subprotocols offered (the fake drops them). */
class RecordingSocket extends FakeWebSocket {
  static opened: RecordingSocket[] = [];
  readonly offered: string[];
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.offered = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
    RecordingSocket.opened.push(this);
  }
  /** The JSON frames the client sent. */
  json(): Record<string, unknown>[] {
    return this.sent.flatMap((frame) => {
      try {
        return [JSON.parse(frame.raw) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

function engine(): Partial<ConversationOptions> {
  return {
    WebSocket: RecordingSocket as unknown as typeof WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: createFakeAudio().factories,
    reconnect: false,
  };
}

const socket = () => RecordingSocket.opened.at(-1)!;
const flush = () =>
  act(async () => {
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
  });

beforeEach(() => {
  RecordingSocket.opened = [];
  // jsdom draws nothing: the widget's visualiser gets no canvas context.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});

describe('<VoiceWidget provider>', () => {
  it('talks OpenAI Realtime with no agentId: the model in the query, the key as a subprotocol, the voice in the session', async () => {
    const user = userEvent.setup();
    render(
      <VoiceWidget
        provider={openaiRealtime({ model: 'gpt-realtime', voice: 'marin', instructions: 'Be brief.' })}
        url="ws://127.0.0.1:8787/v1/realtime"
        options={{ ...engine(), apiKey: 'sk-test' }}
        placement="inline"
        defaultOpen
      />,
    );
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(1));
    // No agent anywhere: the provider names its model, and no empty agent id was added.
    expect(socket().url).toBe('ws://127.0.0.1:8787/v1/realtime?model=gpt-realtime');
    expect(socket().offered).toEqual(['realtime', 'openai-insecure-api-key.sk-test']);
    act(() => socket().serverOpen());
    act(() => socket().serverSend({ type: 'session.created', event_id: 'e1', session: { id: 'sess_1' } }));
    const update = socket().json()[0] as { type: string; session: Record<string, unknown> };
    expect(update.type).toBe('session.update');
    expect(update.session.instructions).toBe('Be brief.');
    expect(update.session).toMatchObject({ audio: { output: { voice: 'marin' } } });
    act(() => socket().serverSend({ type: 'session.updated', event_id: 'e2', session: { id: 'sess_1' } }));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'End conversation' })).toHaveAttribute(
        'aria-pressed',
        'true',
      ),
    );
    act(() =>
      socket().serverSend({
        type: 'response.output_audio_transcript.delta',
        event_id: 'e3',
        response_id: 'resp_1',
        item_id: 'item_1',
        output_index: 0,
        content_index: 0,
        delta: 'Hello from OpenAI.',
      }),
    );
    await waitFor(() => expect(screen.getByRole('log')).toHaveTextContent('Hello from OpenAI.'));
    await user.click(screen.getByRole('button', { name: 'End conversation' }));
    await flush();
    expect(socket().readyState).toBe(3);
  });

  it('without a provider it talks PlayAI to agentId, as before', async () => {
    const user = userEvent.setup();
    render(
      <VoiceWidget
        agentId="agent-1"
        url="ws://127.0.0.1:8787/v1/talk"
        options={{ ...engine(), apiKey: 'key-1' }}
        placement="inline"
        defaultOpen
      />,
    );
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(1));
    expect(socket().url).toBe('ws://127.0.0.1:8787/v1/talk/agent-1');
    act(() => socket().serverOpen());
    expect(socket().json()[0]).toMatchObject({ type: 'setup', apiKey: 'key-1' });
  });

  it('without a provider or an agentId, a start fails with the reason announced, and opens nothing', async () => {
    const user = userEvent.setup();
    render(<VoiceWidget options={engine()} placement="inline" defaultOpen />);
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent(/agentId/));
    expect(screen.getByRole('button', { name: 'Try again' })).toHaveAttribute('data-state', 'error');
    expect(RecordingSocket.opened).toHaveLength(0);
  });

  it('the provider prop wins over options.provider, and an agentId prop does not reach it', async () => {
    const user = userEvent.setup();
    render(
      <VoiceWidget
        provider={elevenlabs({ agentId: 'el-agent' })}
        agentId="ignored-playai-agent"
        url="ws://127.0.0.1:8787/v1/convai/conversation"
        options={{ ...engine(), provider: playai({ agentId: 'other' }) }}
        placement="inline"
        defaultOpen
      />,
    );
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(1));
    expect(socket().url).toBe('ws://127.0.0.1:8787/v1/convai/conversation?agent_id=el-agent');
    expect(socket().url).not.toContain('ignored-playai-agent');
  });
});

function ProviderName() {
  const { conversation } = useAgentConversationContext();
  return <p data-testid="provider">{conversation.options.provider?.name ?? 'default'}</p>;
}

const urlOf = (provider: Provider) =>
  provider.name === 'openai' ? 'ws://127.0.0.1:8787/v1/realtime' : 'ws://127.0.0.1:8787/v1/talk';

/** The page of an app that lets its users pick the service. */
function SwitchingPage({ provider, shared }: { provider: Provider; shared: Partial<ConversationOptions> }) {
  return (
    <AgentConversationProvider provider={provider} url={urlOf(provider)} apiKey="sk-test" {...shared}>
      <TalkButton />
    </AgentConversationProvider>
  );
}

describe('<AgentConversationProvider provider>', () => {
  it('talks ElevenLabs with the overrides, answers pings, and the same components show it', async () => {
    const user = userEvent.setup();
    const getToken = vi.fn(() => 'relay-token');
    render(
      <AgentConversationProvider
        provider={elevenlabs({
          agentId: 'el-agent',
          overrides: { firstMessage: 'Bonjour.', prompt: 'Be kind.', voiceId: 'v1', language: 'fr' },
        })}
        url="ws://127.0.0.1:8788/v1/convai/conversation"
        getToken={getToken}
        {...engine()}
      >
        <ProviderName />
        <TalkButton />
        <Transcript />
      </AgentConversationProvider>,
    );
    expect(screen.getByTestId('provider')).toHaveTextContent('elevenlabs');
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(1));
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(socket().url).toBe(
      'ws://127.0.0.1:8788/v1/convai/conversation?agent_id=el-agent&token=relay-token',
    );
    expect(socket().offered).toEqual(['convai']);
    act(() => socket().serverOpen());
    expect(socket().json()[0]).toEqual({
      type: 'conversation_initiation_client_data',
      conversation_config_override: {
        agent: { prompt: { prompt: 'Be kind.' }, first_message: 'Bonjour.', language: 'fr' },
        tts: { voice_id: 'v1' },
      },
    });
    act(() =>
      socket().serverSend({
        type: 'conversation_initiation_metadata',
        conversation_initiation_metadata_event: {
          conversation_id: 'conv_el_1',
          agent_output_audio_format: 'pcm_16000',
          user_input_audio_format: 'pcm_16000',
        },
      }),
    );
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', 'true'));
    act(() =>
      socket().serverSend({ type: 'agent_response', agent_response_event: { agent_response: 'Bonjour.' } }),
    );
    await waitFor(() => expect(screen.getByRole('log')).toHaveTextContent('Bonjour.'));
    act(() => socket().serverSend({ type: 'ping', ping_event: { event_id: 7, ping_ms: null } }));
    await waitFor(() => expect(socket().json()).toContainEqual({ type: 'pong', event_id: 7 }));
  });

  it('a new provider on a later render is used from the next start, with the same components', async () => {
    const user = userEvent.setup();
    const shared = engine();
    const { rerender } = render(<SwitchingPage provider={playai({ agentId: 'agent-1' })} shared={shared} />);
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(1));
    expect(socket().url).toBe('ws://127.0.0.1:8787/v1/talk/agent-1');
    // Pressed while connecting: a press ends it.
    await user.click(screen.getByRole('button', { name: 'Connecting…' }));
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', 'false'));

    rerender(<SwitchingPage provider={openaiRealtime({ model: 'gpt-realtime-mini' })} shared={shared} />);
    await user.click(screen.getByRole('button', { name: 'Start conversation' }));
    await waitFor(() => expect(RecordingSocket.opened).toHaveLength(2));
    expect(socket().url).toBe('ws://127.0.0.1:8787/v1/realtime?model=gpt-realtime-mini');
    expect(socket().offered).toEqual(['realtime', 'openai-insecure-api-key.sk-test']);
  });
});
