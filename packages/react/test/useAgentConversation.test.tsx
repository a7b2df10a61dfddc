import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createFakeAudio, createScriptedServer, FakeAudioContext } from '@voicewire/core/testing';
import {
  AgentConversationProvider,
  AudioLevel,
  TalkButton,
  Transcript,
  type UseAgentConversationOptions,
  useAgentConversation,
  useAgentConversationContext,
  useConversationState,
} from '@voicewire/react';
import { Profiler, StrictMode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stubAnimationFrames, stubReducedMotion } from './rafStub.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** The real conversation controller, on a scripted in-memory server and fake audio. */
function setup(extra: Partial<UseAgentConversationOptions> = {}) {
  const server = createScriptedServer();
  const audio = createFakeAudio();
  const options: UseAgentConversationOptions = {
    agentId: 'agent-1',
    url: 'ws://127.0.0.1:8787/v1/talk',
    WebSocket: server.WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: audio.factories,
    reconnect: false,
    ...extra,
  };
  return { server, audio, options };
}

function Widget({ options }: { options: UseAgentConversationOptions }) {
  const { status, start } = useAgentConversation(options);
  return (
    <button type="button" onClick={() => void start()}>
      {status}
    </button>
  );
}

function Status() {
  const { status, mode } = useAgentConversationContext();
  return (
    <output aria-label="status">
      {status}/{mode}
    </output>
  );
}

function Mode() {
  const { mode } = useAgentConversationContext();
  return <p>{mode}</p>;
}

const flush = () =>
  act(async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  });

describe('useAgentConversation', () => {
  it('renders idle and opens nothing until started', () => {
    const { server, options } = setup();
    const { result } = renderHook(() => useAgentConversation(options), { wrapper: StrictMode });
    expect(result.current.status).toBe('idle');
    expect(result.current.transcript).toEqual([]);
    expect(result.current.isMuted).toBe(false);
    expect(server.sockets).toHaveLength(0);
  });

  it('StrictMode double mount, then start: exactly one socket, setup first', async () => {
    const { server, options } = setup();
    const { result } = renderHook(() => useAgentConversation(options), { wrapper: StrictMode });
    await act(() => result.current.start());
    expect(server.sockets).toHaveLength(1);
    expect(server.sockets[0]!.url).toBe('ws://127.0.0.1:8787/v1/talk/agent-1');
    expect(server.received()[0]?.type).toBe('setup');
    await waitFor(() => expect(result.current.status).toBe('connected'));
    expect(result.current.conversationId).toBe('conv-1');
  });

  it('start() twice in a row (a double click) opens one socket', async () => {
    const { server, options } = setup();
    const { result } = renderHook(() => useAgentConversation(options));
    await act(() => Promise.all([result.current.start(), result.current.start()]));
    await act(() => result.current.start());
    expect(server.sockets).toHaveLength(1);
  });

  it('a double click on a TalkButton in StrictMode opens one socket', async () => {
    const user = userEvent.setup();
    const { server, options } = setup();
    render(
      <StrictMode>
        <AgentConversationProvider {...options}>
          <TalkButton />
        </AgentConversationProvider>
      </StrictMode>,
    );
    await user.dblClick(screen.getByRole('button', { name: 'Start conversation' }));
    await flush();
    expect(server.sockets).toHaveLength(1);
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('data-state', 'listening'));
    expect(screen.getByRole('button')).toHaveAttribute('aria-pressed', 'true');
  });

  it('stops on unmount: the socket closes and onDisconnect says why', async () => {
    const onDisconnect = vi.fn();
    const { server, audio, options } = setup({ onDisconnect });
    const { result, unmount } = renderHook(() => useAgentConversation(options), { wrapper: StrictMode });
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    unmount();
    await flush();
    expect(server.socket!.readyState).toBe(3);
    expect(server.socket!.clientClose).not.toBeNull();
    expect(audio.capture!.stopped).toBe(true);
    expect(onDisconnect).toHaveBeenCalledWith(expect.objectContaining({ by: 'unmount' }));
  });

  it('a StrictMode remount does not stop a live conversation', async () => {
    const { server, options } = setup();
    const { rerender } = render(
      <StrictMode>
        <Widget options={options} />
      </StrictMode>,
    );
    await act(() => screen.getByRole('button').click());
    await waitFor(() => expect(screen.getByRole('button')).toHaveTextContent('connected'));
    rerender(
      <StrictMode>
        <Widget options={options} />
      </StrictMode>,
    );
    await flush();
    expect(screen.getByRole('button')).toHaveTextContent('connected');
    expect(server.socket!.readyState).toBe(1);
    expect(server.sockets).toHaveLength(1);
  });

  it('callbacks may change between renders without reconnecting', async () => {
    const { server, options } = setup();
    const first = vi.fn();
    const second = vi.fn();
    const { result, rerender } = renderHook(
      ({ onAgentTranscript }) => useAgentConversation({ ...options, onAgentTranscript }),
      { initialProps: { onAgentTranscript: first } },
    );
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    act(() => server.agentSays('First answer.'));
    rerender({ onAgentTranscript: second });
    act(() => server.agentSays('Second answer.'));
    expect(first).toHaveBeenCalledWith('First answer.');
    expect(first).not.toHaveBeenCalledWith('Second answer.');
    expect(second).toHaveBeenCalledWith('Second answer.');
    expect(server.sockets).toHaveLength(1);
    expect(server.received('setup')).toHaveLength(1);
  });

  it('starts again after the agent hangs up, with a fresh conversation', async () => {
    const { server, options } = setup();
    const { result } = renderHook(() => useAgentConversation(options));
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    act(() => server.agentSays('Goodbye.'));
    act(() => server.hangup());
    await waitFor(() => expect(result.current.status).toBe('ended'));
    expect(result.current.transcript.map((turn) => turn.text)).toEqual(['Goodbye.']);
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    expect(server.sockets).toHaveLength(2);
    expect(result.current.transcript).toEqual([]);
  });

  it('mutes and unmutes through the controls', async () => {
    const { options } = setup();
    const { result } = renderHook(() => {
      const conversation = useAgentConversation(options);
      void conversation.isMuted; // read during render: subscribed from the start
      return conversation;
    });
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    act(() => result.current.mute());
    expect(result.current.isMuted).toBe(true);
    act(() => result.current.unmute());
    expect(result.current.isMuted).toBe(false);
  });

  it('keeps its controls stable across renders', async () => {
    const { server, options } = setup();
    const { result, rerender } = renderHook(() => useAgentConversation(options));
    const { start, stop, conversation } = result.current;
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    act(() => server.userSays('Hello there'));
    rerender();
    expect(result.current.start).toBe(start);
    expect(result.current.stop).toBe(stop);
    expect(result.current.conversation).toBe(conversation);
  });
});

describe('useConversationState', () => {
  it('a component that selects only the status does not re-render when the transcript grows', async () => {
    const { server, options } = setup();
    let renders = 0;
    const { result } = renderHook(() => {
      const { conversation, start } = useAgentConversation(options);
      return { conversation, start };
    });
    const { result: status } = renderHook(() => {
      renders += 1;
      return useConversationState(result.current.conversation, (state) => state.status);
    });
    await act(() => result.current.start());
    await waitFor(() => expect(status.current).toBe('connected'));
    const before = renders;
    act(() => server.userSays('One'));
    act(() => server.agentSays('Two'));
    act(() => server.userSays('Three'));
    expect(result.current.conversation.store.getState().transcript).toHaveLength(3);
    expect(renders).toBe(before);
    act(() => server.hangup());
    expect(status.current).toBe('ended');
    expect(renders).toBe(before + 1);
  });

  it('useAgentConversation shows every state change: one render each', async () => {
    const { server, options } = setup();
    let renders = 0;
    const { result } = renderHook(() => {
      renders += 1;
      return useAgentConversation(options);
    });
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    const before = renders;
    act(() => server.userSays('One'));
    expect(renders).toBe(before + 1);
    expect(result.current.transcript.map((turn) => turn.text)).toEqual(['One']);
  });
});

describe('options', () => {
  it('options changed while live apply at the next start(), without a remount or a reconnect', async () => {
    const { server, options } = setup();
    const { result, rerender } = renderHook((props) => useAgentConversation(props), {
      initialProps: options,
    });
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    const { conversation } = result.current;
    rerender({ ...options, agentId: 'agent-2', customGreeting: 'Hello again' });
    await flush();
    expect(server.sockets).toHaveLength(1);
    await act(() => result.current.stop());
    await act(() => result.current.start());
    await waitFor(() => expect(result.current.status).toBe('connected'));
    expect(result.current.conversation).toBe(conversation);
    expect(server.sockets.map((socket) => socket.url)).toEqual([
      'ws://127.0.0.1:8787/v1/talk/agent-1',
      'ws://127.0.0.1:8787/v1/talk/agent-2',
    ]);
    expect(server.received('setup').at(-1)).toMatchObject({ customGreeting: 'Hello again' });
  });

  it('invalid options reach the UI as an error when started, like any other', async () => {
    const { server, options } = setup({ agentId: '' });
    const { result } = renderHook(() => useAgentConversation(options));
    await act(() => result.current.start());
    expect(result.current.status).toBe('error');
    expect(result.current.error).toMatchObject({ kind: 'invalid-options', fatal: true });
    expect(server.sockets).toHaveLength(0);
  });
});

describe('AgentConversationProvider', () => {
  it('shares one conversation between the components and the context hook', async () => {
    const { server, options } = setup();
    render(
      <StrictMode>
        <AgentConversationProvider {...options}>
          <Status />
          <TalkButton />
          <Transcript />
        </AgentConversationProvider>
      </StrictMode>,
    );
    await act(() => screen.getByRole('button').click());
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('connected/listening'));
    act(() => server.userSays('Is anyone there?'));
    act(() => server.agentSays('Yes, I am here.'));
    expect(screen.getByRole('log')).toHaveTextContent('You: Is anyone there?');
    expect(screen.getByRole('log')).toHaveTextContent('Agent: Yes, I am here.');
    expect(server.sockets).toHaveLength(1);
  });

  it('names the missing provider', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => renderHook(() => useAgentConversationContext())).toThrow(
      /inside <AgentConversationProvider>/,
    );
    spy.mockRestore();
  });
});

describe('render counts', () => {
  it('100 audio frames and 100 level polls cause zero React renders; one render per state change', async () => {
    stubReducedMotion(false);
    const frames = stubAnimationFrames();
    const { server, audio, options } = setup();
    let commits = 0;
    const onRender = () => {
      commits += 1;
    };
    render(
      <AgentConversationProvider {...options}>
        <Profiler id="widget" onRender={onRender}>
          <Mode />
          <TalkButton />
          <Transcript />
          <AudioLevel source="input" />
          <AudioLevel source="output" />
        </Profiler>
      </AgentConversationProvider>,
    );
    await act(() => screen.getByRole('button').click());
    await waitFor(() => expect(screen.getByRole('button')).toHaveAttribute('data-state', 'listening'));
    await flush();

    const before = commits;
    const chunk = new Uint8Array(960);
    await act(async () => {
      for (let i = 0; i < 100; i += 1) {
        audio.capture!.setLevel(0.05 + (i % 10) / 100);
        audio.capture!.emitFrame(); // mic frame → audioIn on the wire
        server.audio(chunk); // agent audio frame → player
        frames.frame(); // AudioLevel polls both levels
      }
    });
    expect(server.received('audioIn').length).toBeGreaterThanOrEqual(100);
    expect(audio.player!.enqueued.length).toBeGreaterThanOrEqual(100);
    expect(
      Number(screen.getByRole('meter', { name: 'Microphone level' }).getAttribute('aria-valuenow')),
    ).toBeGreaterThan(0);
    expect(commits).toBe(before);

    // One state change (mode) → one commit.
    act(() => server.serverSend({ type: 'voiceActivityStart' }));
    expect(commits).toBe(before + 1);
    act(() => server.serverSend({ type: 'voiceActivityEnd' }));
    expect(commits).toBe(before + 2);
    act(() => server.serverSend({ type: 'onUserTranscript', message: 'Hi' }));
    expect(commits).toBe(before + 3);
  });
});
