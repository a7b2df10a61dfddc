'use client';
import type {
  Conversation,
  ConversationError,
  ConversationMode,
  ConversationState,
  ConversationStats,
  ConversationStatus,
  TranscriptTurn,
} from '@voicewire/core';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';

const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

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
  /** Sends free-form text input to the agent (`customInput`). */
  sendCustomInput(text: string): void;
  /** Microphone RMS, 0..1, read on demand: poll it from requestAnimationFrame, never store it in state. */
  getInputLevel(): number;
  /** Agent voice RMS, 0..1, read on demand. */
  getOutputLevel(): number;
  getStats(): ConversationStats;
}

/**
 * The conversation's state and controls. The state fields are getters: a component re-renders
 * only when a field it has read changes (reading `status` alone means a new transcript turn does
 * not re-render it), and never for audio.
 */
export interface AgentConversation extends ConversationControls {
  readonly status: ConversationStatus;
  readonly mode: ConversationMode;
  readonly conversationId: string | null;
  readonly transcript: readonly TranscriptTurn[];
  readonly isMuted: boolean;
  readonly error: ConversationError | null;
  /** The conversation itself: pass it to `<TalkButton conversation>` or a provider. */
  readonly conversation: Conversation;
}

type StateKey = keyof ConversationState;

/**
 * Binds a component to a conversation, tracking which state fields it reads. Used by
 * `useAgentConversation` and `useAgentConversationContext`.
 */
export function useConversation(conversation: Conversation): AgentConversation {
  const { store } = conversation;
  const tracked = useRef<Set<StateKey>>(null as unknown as Set<StateKey>);
  if (tracked.current === null) tracked.current = new Set();
  const cache = useRef<{ store: typeof store; state: ConversationState } | null>(null);

  // React's change callback: called by hand when a field is first read after a commit and has
  // moved on since (see `read` below).
  const onChangeRef = useRef<(() => void) | null>(null);
  const subscribe = useCallback(
    (onChange: () => void) => {
      onChangeRef.current = onChange;
      const unsubscribe = store.subscribe(onChange);
      return () => {
        unsubscribe();
        if (onChangeRef.current === onChange) onChangeRef.current = null;
      };
    },
    [store],
  );
  // Returns the last state in which a field this component read changed, so untouched fields
  // never cause a render. A field read for the first time is compared from then on; if it had
  // changed in between, React's post-commit snapshot check re-renders once with the fresh value.
  const getSnapshot = useCallback((): ConversationState => {
    const next = store.getState();
    const cached = cache.current;
    if (cached && cached.store === store) {
      if (cached.state === next) return cached.state;
      let changed = false;
      for (const key of tracked.current) {
        if (!Object.is(cached.state[key], next[key])) {
          changed = true;
          break;
        }
      }
      if (!changed) return cached.state;
    }
    cache.current = { store, state: next };
    return next;
  }, [store]);
  const getServerSnapshot = useCallback(() => store.getState(), [store]);
  const state = useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);

  const controls = useMemo<ConversationControls>(
    () => ({
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

  // Reads during render see the rendered snapshot (consistent within a render). Reads after the
  // commit (event handlers, effects, tests) see the store now; if a field read for the first
  // time has moved on, the component re-renders to show it.
  const phase = { rendering: true };
  useIsomorphicLayoutEffect(() => {
    phase.rendering = false;
  });
  const keys = tracked.current;
  const read = <K extends StateKey>(key: K): ConversationState[K] => {
    const firstRead = !keys.has(key);
    keys.add(key);
    if (phase.rendering) return state[key];
    const live = store.getState()[key];
    if (firstRead && !Object.is(live, state[key])) onChangeRef.current?.();
    return live;
  };
  return {
    ...controls,
    conversation,
    get status() {
      return read('status');
    },
    get mode() {
      return read('mode');
    },
    get conversationId() {
      return read('conversationId');
    },
    get transcript() {
      return read('transcript');
    },
    get isMuted() {
      return read('isMuted');
    },
    get error() {
      return read('error');
    },
  };
}
