'use client';
import type {
  Conversation,
  ConversationOptions,
  ConversationState,
  ConversationStats,
} from '@voicewire/core';
import { createConversation } from '@voicewire/core/conversation';
import { useEffect, useLayoutEffect, useMemo, useState, useSyncExternalStore } from 'react';

/** Options of `useAgentConversation`: those of `createConversation`. */
export type UseAgentConversationOptions = ConversationOptions;

/** The controls: stable for the life of the component, safe to pass to memoised children. */
export interface ConversationControls {
  /** Starts the conversation; call it from a user gesture. A second call while live does nothing. */
  start(): Promise<void>;
  /** Ends it and releases the microphone, the audio context and the socket; idempotent. */
  stop(): Promise<void>;
  mute(): void;
  unmute(): void;
  /** Agent voice volume, 0..1. */
  setVolume(volume: number): void;
  /** Sends text to the agent, as if the user had said it (where the provider has text input). */
  sendCustomInput(text: string): void;
  /** Microphone RMS, 0..1, read on demand: poll it from requestAnimationFrame, never store it in state. */
  getInputLevel(): number;
  /** Agent voice RMS, 0..1, read on demand. */
  getOutputLevel(): number;
  getStats(): ConversationStats;
}

/** The conversation's state, its controls, and the conversation itself. */
export interface AgentConversation extends Readonly<ConversationState>, ConversationControls {
  /** The conversation itself: pass it to a component's `conversation` prop or to a provider. */
  readonly conversation: Conversation;
}

// Options must be in place before any event handler can call start(); on the server neither
// effect runs, and React 18 warns about useLayoutEffect there.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * A conversation owned by the calling component: created once (creating one opens nothing:
 * the socket, the AudioContext and the microphone wait for `start()`), given the newest options
 * after each render (callbacks and `getToken` apply at once, the rest at the next `start()`),
 * and stopped when the component unmounts; once the page is idle, what a call needs is loaded
 * (`conversation.preload()`). Stopping a conversation that is not live does
 * nothing, so StrictMode's simulated unmount, which comes before any click, leaves it as it was.
 */
export function useOwnedConversation(options: ConversationOptions): Conversation {
  const [conversation] = useState(() => createConversation(options));
  useIsomorphicLayoutEffect(() => {
    conversation.setOptions(options);
  });
  useEffect(
    () => () => {
      void conversation.stop('unmount');
    },
    [conversation],
  );
  useEffect(() => whenIdle(() => conversation.preload()), [conversation]);
  return conversation;
}

/**
 * Run `task` once the page is idle (what a call needs loads after the page's own work, and the
 * first click then waits for nothing but the network); returns the cancel.
 */
function whenIdle(task: () => void): () => void {
  const scope = globalThis as {
    requestIdleCallback?: (callback: () => void, options?: { timeout: number }) => number;
    cancelIdleCallback?: (handle: number) => void;
  };
  if (typeof scope.requestIdleCallback === 'function') {
    const handle = scope.requestIdleCallback(task, { timeout: 2_000 });
    return () => scope.cancelIdleCallback?.(handle);
  }
  const timer = setTimeout(task, 200);
  return () => clearTimeout(timer);
}

/**
 * The state and stable controls of `conversation`. The component re-renders when the state
 * changes (status, mode, a transcript turn, mute, error: a few times a turn, never for audio);
 * to follow one field only, use `useConversationState(conversation, selector)`.
 */
export function useConversationBinding(conversation: Conversation): AgentConversation {
  const { store } = conversation;
  const state = useSyncExternalStore(store.subscribe, store.getState, store.getInitialState);
  const controls = useMemo<ConversationControls & { conversation: Conversation }>(
    () => ({
      conversation,
      start: () => conversation.start(),
      stop: () => conversation.stop(),
      mute: () => conversation.mute(),
      unmute: () => conversation.unmute(),
      setVolume: (volume) => conversation.setVolume(volume),
      sendCustomInput: (text) => conversation.sendCustomInput(text),
      getInputLevel: () => conversation.getInputLevel(),
      getOutputLevel: () => conversation.getOutputLevel(),
      getStats: () => conversation.getStats(),
    }),
    [conversation],
  );
  return { ...state, ...controls };
}

/**
 * A live voice conversation with an agent, owned by this component (see `useOwnedConversation`
 * above for its life). Share it with components through their `conversation` prop or an
 * `<AgentConversationProvider conversation>`.
 *
 * @example
 * const { status, transcript, start, stop } = useAgentConversation({
 *   agentId: 'my-agent',
 *   url: 'wss://relay.example.com/v1/talk',
 * });
 * // Another service: one option changes, nothing else.
 * useAgentConversation({
 *   provider: openaiRealtime({ model: 'gpt-realtime', voice: 'marin' }), // '@voicewire/core/openai'
 *   url: 'wss://relay.example.com/v1/realtime',
 *   getToken,
 * });
 */
export function useAgentConversation(options: UseAgentConversationOptions): AgentConversation {
  return useConversationBinding(useOwnedConversation(options));
}
