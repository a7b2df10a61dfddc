import { isLiveStatus } from '@voicewire/core/conversation';
import {
  AgentConversationProvider,
  AudioLevel,
  AudioVisualizer,
  type Conversation,
  type ConversationError,
  type ConversationState,
  ConversationStatus,
  DeviceSelect,
  TalkButton,
  Transcript,
  type TurnTaking,
  useAgentConversation,
  useAgentConversationContext,
} from '@voicewire/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { friendlyError, statusNotice } from './friendlyError.ts';
import { PROVIDER_PROFILES } from './providers.ts';
import { SettingsPanel } from './SettingsPanel.tsx';
import { StatsPanel } from './StatsPanel.tsx';
import {
  type DemoSettings,
  resolveSettings,
  SETTING_KEYS,
  storeSettings,
  toConversationOptions,
  usesRelay,
} from './settings.ts';
import { useSessionDescription } from './useSessionDescription.ts';

declare global {
  interface Window {
    /**
     * The demo's test hook, read by the end-to-end tests (and handy in the console). The library
     * itself exposes nothing on `window`.
     */
    __voicewire?: {
      conversation: Conversation;
      settings: DemoSettings;
      getState(): ConversationState;
      getInputLevel(): number;
      getOutputLevel(): number;
      getStats(): ReturnType<Conversation['getStats']>;
    };
  }
}

const TURN_TAKING_KEY = 'voicewire-demo:turnTaking';

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

const MODE_TEXT: Record<string, string> = {
  listening: 'Listening',
  userSpeaking: 'You are speaking',
  thinking: 'Thinking',
  agentSpeaking: 'Agent speaking',
};

const STATUS_TEXT: Record<string, string> = {
  idle: 'Ready',
  connecting: 'Connecting',
  reconnecting: 'Reconnecting',
  ending: 'Agent finishing',
  ended: 'Ended',
  error: 'Stopped',
};

export function App() {
  const [{ settings, fromQuery }, setResolved] = useState(() =>
    resolveSettings(window.location, safeStorage()),
  );
  const [turnTaking, setTurnTaking] = useState<TurnTaking>(() =>
    safeStorage()?.getItem(TURN_TAKING_KEY) === 'pushToTalk' ? 'pushToTalk' : 'vad',
  );
  // Switching mode mid-call applies at once, without reconnecting.
  const options = useMemo(() => ({ ...toConversationOptions(settings), turnTaking }), [settings, turnTaking]);
  const chooseTurnTaking = useCallback((next: TurnTaking) => {
    setTurnTaking(next);
    try {
      safeStorage()?.setItem(TURN_TAKING_KEY, next);
    } catch {
      // Storage full or blocked: the choice holds for this visit.
    }
  }, []);
  const agent = useAgentConversation(options);
  const { conversation } = agent;
  const session = useSessionDescription(settings);

  const save = useCallback((next: DemoSettings) => {
    storeSettings(safeStorage(), next);
    // Saved settings now say what the page uses: drop the query that overrode them.
    const url = new URL(window.location.href);
    for (const key of SETTING_KEYS) url.searchParams.delete(key);
    window.history.replaceState(null, '', url);
    setResolved({ settings: next, fromQuery: [] });
  }, []);

  useEffect(() => {
    window.__voicewire = {
      conversation,
      settings,
      getState: () => conversation.store.getState(),
      getInputLevel: () => conversation.getInputLevel(),
      getOutputLevel: () => conversation.getOutputLevel(),
      getStats: () => conversation.getStats(),
    };
  }, [conversation, settings]);

  return (
    <AgentConversationProvider conversation={conversation}>
      <div className="page">
        <header className="topbar">
          <a className="brand" href="./">
            <Logo />
            <span className="brand-name">voicewire</span>
            <span className="brand-tag">demo</span>
          </a>
          <p className="topbar-text">Live voice conversations with AI agents, in any React page.</p>
        </header>

        <main className="layout">
          <section className="panel widget" aria-labelledby="widget-title">
            <Widget settings={settings} turnTaking={turnTaking} onTurnTaking={chooseTurnTaking} />
          </section>

          <div className="side">
            <StatsPanel
              conversation={conversation}
              audio={session.audio}
              status={agent.status}
              conversationId={agent.conversationId}
            />
            <details className="panel settings">
              <summary>
                <h2>Settings</h2>
                <span className="summary-text mono" data-provider={settings.provider}>
                  {session.endpoint}
                </span>
              </summary>
              <SettingsPanel
                settings={settings}
                fromQuery={fromQuery}
                live={isLiveStatus(agent.status)}
                onSave={save}
              />
            </details>
          </div>
        </main>

        <footer className="footer">
          <p>
            Going to production? Keep the API key on your server: run the <strong>relay</strong> (
            <code>createRelay</code> in <code>@voicewire/server</code>), mint a short-lived token per visitor
            with <code>createSessionToken</code>, and give the library <code>url</code> + <code>token</code>{' '}
            instead of a key.
          </p>
        </footer>
      </div>
    </AgentConversationProvider>
  );
}

/** The widget as an integrator embeds it: everything below comes from @voicewire/react. */
function Widget({
  settings,
  turnTaking,
  onTurnTaking,
}: {
  settings: DemoSettings;
  turnTaking: TurnTaking;
  onTurnTaking: (next: TurnTaking) => void;
}) {
  const { status, mode, error, isMuted, mute, unmute, stop } = useAgentConversationContext();
  const profile = PROVIDER_PROFILES[settings.provider];
  const context = {
    server: settings.server,
    // What the service is asked for by name: OpenAI's and Gemini's model, the others' agent.
    target:
      profile.defaultModel !== undefined
        ? `model “${settings.model.trim() || profile.defaultModel}”`
        : profile.fields.agentId !== undefined
          ? `${settings.provider === 'hume' ? 'config' : 'agent'} “${settings.agentId}”`
          : 'agent',
    outputFormat: settings.outputFormat,
    usingToken: usesRelay(settings),
  };
  const notice = error ? friendlyError(error, context) : statusNotice(status);
  const formatError = (e: ConversationError) => {
    const friendly = friendlyError(e, context);
    return `${friendly.title} ${friendly.hint}`;
  };
  const live = isLiveStatus(status);
  const stateText = status === 'connected' ? (MODE_TEXT[mode] ?? mode) : (STATUS_TEXT[status] ?? status);

  return (
    <>
      <div className="widget-head">
        <div>
          <h1 id="widget-title">Talk to the agent</h1>
          <p className="widget-service" data-testid="service">
            {PROVIDER_PROFILES[settings.provider].label}
          </p>
          <p className="widget-sub">
            {turnTaking === 'pushToTalk'
              ? 'Press start, then hold the button (or Space) while you speak. Pressing silences the agent.'
              : 'Press start, allow the microphone and say something. Speak over the agent to interrupt it.'}
          </p>
        </div>
        <span
          className="state-chip"
          data-status={status}
          data-mode={status === 'connected' ? mode : undefined}
          data-testid="conversation-state"
        >
          <span className="state-dot" aria-hidden="true" />
          {stateText}
        </span>
      </div>

      <div className="controls">
        <TalkButton className="talk-button" formatError={formatError}>
          {({ label, state }) => (
            <>
              <span className="talk-icon" data-icon={state} aria-hidden="true" />
              <span>{label}</span>
            </>
          )}
        </TalkButton>
        {turnTaking === 'pushToTalk' && live ? (
          <button type="button" className="button secondary end-button" onClick={() => void stop()}>
            End conversation
          </button>
        ) : null}
        <button
          type="button"
          className="button secondary mute-button"
          aria-pressed={isMuted}
          disabled={!live}
          onClick={() => (isMuted ? unmute() : mute())}
        >
          {isMuted ? 'Unmute' : 'Mute'}
        </button>
      </div>

      <fieldset className="mode-switch">
        <legend>Turn-taking</legend>
        {(
          [
            ['vad', 'Voice detection'],
            ['pushToTalk', 'Push to talk'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="mode-option">
            <input
              type="radio"
              name="turn-taking"
              value={value}
              checked={turnTaking === value}
              onChange={() => onTurnTaking(value)}
            />
            <span>{label}</span>
          </label>
        ))}
      </fieldset>

      {/* Announces connecting, listening, agent speaking… to screen readers, once per change. */}
      <ConversationStatus />

      <div className="visualizers">
        <AudioVisualizer source="input" bars={16} className="visualizer" />
        <AudioVisualizer source="output" bars={16} className="visualizer" />
      </div>

      <div className="meters">
        <div className="meter-row">
          <span className="meter-label">You</span>
          <AudioLevel source="input" className="meter" />
        </div>
        <div className="meter-row">
          <span className="meter-label">Agent</span>
          <AudioLevel source="output" className="meter meter-output" />
        </div>
      </div>

      {notice ? (
        <div
          className="notice"
          data-tone={notice.tone}
          data-error-kind={error?.kind}
          data-testid="notice"
          // TalkButton already announces a fatal error (role=alert); this box is what people see.
          role={notice.tone === 'error' ? undefined : 'status'}
        >
          <strong>{notice.title}</strong>
          <span>{notice.hint}</span>
        </div>
      ) : null}

      <div className="devices">
        <DeviceSelect kind="audioinput" storageKey="voicewire-demo:audioinput" />
        <DeviceSelect kind="audiooutput" storageKey="voicewire-demo:audiooutput" />
      </div>

      <Transcript
        className="transcript"
        emptyState={
          <p className="transcript-empty">
            The conversation will appear here. The local agent greets you, then answers each thing you say by
            playing it back to you.
          </p>
        }
      />
    </>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" />
      <path d="M8 16h2m3-5v10m3-14v18m3-13v8m3-5v2" />
    </svg>
  );
}
