'use client';
import type { Conversation, ConversationOptions, Provider } from '@voicewire/core';
import {
  type HTMLAttributes,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { AgentConversationProvider, useBoundConversation } from './AgentConversationProvider.tsx';
import { AudioVisualizer } from './AudioVisualizer.tsx';
import { ConversationStatus } from './ConversationStatus.tsx';
import { DeviceSelect } from './DeviceSelect.tsx';
import { TalkButton } from './TalkButton.tsx';
import { Transcript } from './Transcript.tsx';
import { getTalkButtonState } from './talkButtonState.ts';
import { useConversationState } from './useConversationState.ts';

export interface VoiceWidgetProps extends Omit<HTMLAttributes<HTMLDivElement>, 'title'> {
  /**
   * Which service and wire protocol: `openaiRealtime({ model })` from `@voicewire/core/openai`,
   * `elevenlabs({ agentId })` from `@voicewire/core/elevenlabs`, `playai({ agentId })` from
   * `@voicewire/core/playai`… Everything in the widget works the same with each. Read at each
   * `start()`, like every option (ignored when `conversation` is given).
   * @defaultValue PlayAI's talk protocol, with `agentId`
   */
  provider?: Provider;
  /**
   * PlayAI's agent, when no `provider` is given (then required: a start without one fails with
   * an `invalid-options` error the button announces). Not needed, and not sent, with a `provider`,
   * which names its own agent or model.
   */
  agentId?: string;
  /**
   * The endpoint without its query: your relay in production, or the vendor's own when absent
   * (`wss://relay.example.com/v1/realtime`; PlayAI's is a base the agent id is appended to).
   * @defaultValue the provider's vendor endpoint
   */
  url?: string;
  /** A fresh relay session token (or a vendor's browser-safe credential) for each connection. */
  getToken?: () => string | Promise<string>;
  /** Any other conversation option (formats, callbacks, `turnTaking`…); the props above win. */
  options?: Partial<ConversationOptions>;
  /** A conversation created elsewhere, instead of one the widget owns. */
  conversation?: Conversation;
  /**
   * `bottom-right`: a floating launcher in the corner of the page; `inline`: in the flow, where it is rendered.
   * @defaultValue 'bottom-right'
   */
  placement?: 'bottom-right' | 'inline';
  /** The panel's title. @defaultValue 'Voice assistant' */
  title?: string;
  /** The launcher's text. @defaultValue 'Talk to us' */
  launcherLabel?: string;
  /** Show microphone and speaker pickers in the panel. @defaultValue false */
  devicePickers?: boolean;
  /** Open the panel at first. @defaultValue false */
  defaultOpen?: boolean;
  /** Called when the panel opens or closes. */
  onOpenChange?: (open: boolean) => void;
  /** Extra content at the bottom of the panel (a privacy note, a link). */
  children?: ReactNode;
}

/**
 * The whole experience in one tag: a launcher that opens a panel with the talk button, the
 * status line, a visualiser of the agent's voice, the transcript and, optionally, device
 * pickers. Built only from the public components, so it renders on the server and themes with
 * the same CSS variables. The panel keeps the call going while closed; Escape or the close
 * button closes it and puts focus back on the launcher; opening it focuses the talk button.
 *
 * @example
 * <VoiceWidget agentId="my-agent" url="wss://relay.example.com/v1/talk" getToken={fetchToken} />
 * <VoiceWidget provider={openaiRealtime({ voice: 'marin' })} url="wss://relay.example.com/v1/realtime" getToken={fetchToken} />
 */
export function VoiceWidget(props: VoiceWidgetProps): ReactNode {
  const { provider, agentId, url, getToken, options, conversation, ...rest } = props;
  const body = <WidgetBody {...rest} />;
  if (conversation)
    return <AgentConversationProvider conversation={conversation}>{body}</AgentConversationProvider>;
  const merged: ConversationOptions = { ...options };
  if (provider !== undefined) merged.provider = provider;
  if (agentId !== undefined) merged.agentId = agentId;
  if (url !== undefined) merged.url = url;
  if (getToken !== undefined) merged.getToken = getToken;
  return <AgentConversationProvider {...merged}>{body}</AgentConversationProvider>;
}

function WidgetBody(
  props: Omit<VoiceWidgetProps, 'provider' | 'agentId' | 'url' | 'getToken' | 'options' | 'conversation'>,
): ReactNode {
  const {
    placement = 'bottom-right',
    title = 'Voice assistant',
    launcherLabel = 'Talk to us',
    devicePickers = false,
    defaultOpen = false,
    onOpenChange,
    children,
    ...divProps
  } = props;
  const conversation = useBoundConversation(undefined, 'VoiceWidget');
  const state = useConversationState(conversation, (s) => getTalkButtonState(s.status, s.mode));
  const [open, setOpen] = useState(defaultOpen);
  const id = useId();
  const panelId = `${id}-panel`;
  const titleId = `${id}-title`;
  const launcher = useRef<HTMLButtonElement>(null);
  const talkButton = useRef<HTMLButtonElement>(null);
  const opened = useRef(false);

  useEffect(() => {
    // Focus moves on the user's open and close only, not on the first render.
    if (!opened.current) {
      opened.current = true;
      return;
    }
    if (open) talkButton.current?.focus();
    else launcher.current?.focus();
  }, [open]);

  const setOpenAndNotify = (next: boolean) => {
    setOpen(next);
    onOpenChange?.(next);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape' && open) {
      event.stopPropagation();
      setOpenAndNotify(false);
    }
  };

  return (
    <div
      data-voicewire="voice-widget"
      data-placement={placement}
      data-open={open ? 'true' : 'false'}
      data-state={state}
      {...divProps}
    >
      <section
        id={panelId}
        aria-labelledby={titleId}
        data-voicewire="voice-widget-panel"
        hidden={!open}
        onKeyDown={onKeyDown}
      >
        <div data-voicewire="voice-widget-header">
          <h2 id={titleId} data-voicewire="voice-widget-title">
            {title}
          </h2>
          <button
            type="button"
            aria-label={`Close ${title}`}
            data-voicewire="voice-widget-close"
            onClick={() => setOpenAndNotify(false)}
          >
            <span aria-hidden="true">×</span>
          </button>
        </div>
        <div data-voicewire="voice-widget-controls">
          <TalkButton ref={talkButton} />
          <AudioVisualizer source="output" bars={20} />
        </div>
        <ConversationStatus visuallyHidden={false} />
        <Transcript />
        {devicePickers ? (
          <div data-voicewire="voice-widget-devices">
            <DeviceSelect kind="audioinput" storageKey="voicewire:audioinput" />
            <DeviceSelect kind="audiooutput" storageKey="voicewire:audiooutput" />
          </div>
        ) : null}
        {children}
      </section>
      <button
        ref={launcher}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        data-voicewire="voice-widget-launcher"
        data-state={state}
        onClick={() => setOpenAndNotify(!open)}
      >
        {launcherLabel}
      </button>
    </div>
  );
}
