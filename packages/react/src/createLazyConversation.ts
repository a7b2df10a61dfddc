import type {
  Conversation,
  ConversationCallbacks,
  ConversationError,
  ConversationEventMap,
  ConversationOptions,
  ConversationState,
  ConversationStats,
  ConversationStatus,
} from '@voicewire/core';
import { isVoicewireError } from '@voicewire/core';

type StoreApi = Conversation['store'];
type StoreListener = (state: ConversationState, previous: ConversationState) => void;
type EventName = keyof ConversationEventMap;
type AnyListener = (...args: never[]) => void;

/**
 * The state before anything has started. Frozen and shared so that `getState()` is stable (what
 * `useSyncExternalStore` needs) and so that server rendering always renders the idle state.
 */
export const IDLE_STATE: ConversationState = Object.freeze({
  status: 'idle',
  mode: 'listening',
  conversationId: null,
  transcript: Object.freeze([]) as unknown as ConversationState['transcript'],
  isMuted: false,
  error: null,
  turnTaking: 'vad',
  talking: false,
});

const EMPTY_STATS: ConversationStats = Object.freeze({
  framesSent: 0,
  framesDropped: 0,
  bytesSent: 0,
  messagesReceived: 0,
  bytesReceived: 0,
  reconnects: 0,
  timeToFirstAudioMs: Object.freeze([]) as unknown as number[],
  interruptionMs: Object.freeze([]) as unknown as number[],
});

const CALLBACK_NAMES = [
  'onConnect',
  'onDisconnect',
  'onError',
  'onMessage',
  'onModeChange',
  'onStatusChange',
  'onUserTranscript',
  'onAgentTranscript',
  'onCustomEvent',
] as const satisfies readonly (keyof ConversationCallbacks)[];

function toConversationError(cause: unknown): ConversationError {
  if (isVoicewireError(cause)) return cause.toJSON();
  return {
    kind: 'invalid-options',
    message: cause instanceof Error ? cause.message : String(cause),
    fatal: true,
  };
}

/** A socket is open or being opened: a second `start()` must not open another. */
export function isLiveStatus(status: ConversationStatus): boolean {
  return (
    status === 'connecting' || status === 'connected' || status === 'reconnecting' || status === 'ending'
  );
}

/**
 * A `Conversation` that creates the real one only when `start()` is called, and a fresh one for
 * each new start after the previous conversation ended.
 *
 * Why: React may call a component's `useState` initialiser twice (StrictMode) and renders on the
 * server, where nothing may touch `window`. Deferring creation to the user's click means no
 * socket, context or listener exists until then, a StrictMode double mount cannot create two, and
 * the options in force at the click (agent, URL, formats) are the ones used. Subscribers, event
 * listeners and callbacks stay attached across the swap, so the React tree never notices.
 */
export function createLazyConversation(
  getOptions: () => ConversationOptions,
  create: (options: ConversationOptions) => Conversation,
): Conversation {
  let current: Conversation | null = null;
  let detachCurrent: (() => void) | null = null;
  let starting: Promise<void> | null = null;
  let callbackOverrides: ConversationCallbacks = {};
  let volume: number | null = null;
  let inputDeviceId: string | undefined;
  let turnTaking: 'vad' | 'pushToTalk' | undefined;
  let outputDeviceId: string | undefined;
  const storeListeners = new Set<StoreListener>();
  const eventListeners = new Map<EventName, Set<AnyListener>>();
  const eventDetachers = new Map<EventName, () => void>();

  // What the store shows while there is no conversation: idle, or the error that kept one from
  // being created (invalid options), so it reaches the UI like any other error.
  let detachedState: ConversationState = IDLE_STATE;

  const getState = (): ConversationState => (current ? current.store.getState() : detachedState);

  const store: StoreApi = {
    getState,
    getInitialState: () => IDLE_STATE,
    setState: ((...args: unknown[]) => {
      if (current) (current.store.setState as (...a: unknown[]) => void)(...args);
    }) as StoreApi['setState'],
    subscribe(listener) {
      storeListeners.add(listener);
      return () => {
        storeListeners.delete(listener);
      };
    },
  };

  const notify = (state: ConversationState, previous: ConversationState) => {
    for (const listener of [...storeListeners]) listener(state, previous);
  };

  const attachEvent = (conversation: Conversation, event: EventName) => {
    const dispatch = (...args: unknown[]) => {
      for (const listener of [...(eventListeners.get(event) ?? [])]) {
        (listener as (...a: unknown[]) => void)(...args);
      }
    };
    eventDetachers.set(event, conversation.on(event, dispatch as ConversationEventMap[typeof event]));
  };

  // Each callback reads the newest one at call time, so a component may pass new closures on
  // every render without the conversation reconnecting.
  const delegatedCallbacks = (): ConversationCallbacks => {
    const callbacks: Record<string, (...args: unknown[]) => void> = {};
    for (const name of CALLBACK_NAMES) {
      callbacks[name] = (...args: unknown[]) => {
        const fn = (callbackOverrides[name] ?? getOptions()[name]) as ((...a: unknown[]) => void) | undefined;
        fn?.(...args);
      };
    }
    return callbacks as ConversationCallbacks;
  };

  const replaceCurrent = (next: Conversation) => {
    const previous = getState();
    detachCurrent?.();
    for (const detach of eventDetachers.values()) detach();
    eventDetachers.clear();
    current = next;
    detachCurrent = next.store.subscribe((state, prev) => notify(state, prev));
    for (const event of eventListeners.keys()) attachEvent(next, event);
    if (volume !== null) next.setVolume(volume);
    if (turnTaking !== undefined) next.setTurnTaking(turnTaking);
    if (inputDeviceId !== undefined) void next.setInputDevice(inputDeviceId).catch(() => {});
    if (outputDeviceId !== undefined) void next.setOutputDevice(outputDeviceId).catch(() => {});
    const state = next.store.getState();
    if (state !== previous) notify(state, previous);
  };

  const lazy: Conversation = {
    store,
    start() {
      if (starting) return starting;
      if (current && isLiveStatus(current.store.getState().status)) return Promise.resolve();
      // Only an ended (or never started) conversation is replaced: it has released everything.
      let next: Conversation;
      try {
        const options = getOptions();
        const { getToken } = options;
        next = create({
          ...options,
          ...delegatedCallbacks(),
          // Called at each (re)connect: use the component's newest function, like the callbacks.
          ...(getToken ? { getToken: () => (getOptions().getToken ?? getToken)() } : {}),
        });
      } catch (cause) {
        const before = getState();
        detachCurrent?.();
        detachCurrent = null;
        current = null;
        detachedState = { ...IDLE_STATE, status: 'error', error: toConversationError(cause) };
        notify(detachedState, before);
        return Promise.reject(cause);
      }
      replaceCurrent(next);
      const conversation = current!;
      starting = conversation.start().finally(() => {
        starting = null;
      });
      return starting;
    },
    stop(by) {
      starting = null;
      return current ? current.stop(by) : Promise.resolve();
    },
    mute() {
      current?.mute();
    },
    unmute() {
      current?.unmute();
    },
    setVolume(value) {
      volume = value;
      current?.setVolume(value);
    },
    sendCustomInput(text) {
      current?.sendCustomInput(text);
    },
    getInputLevel() {
      return current ? current.getInputLevel() : 0;
    },
    getOutputLevel() {
      return current ? current.getOutputLevel() : 0;
    },
    getStats() {
      return current ? current.getStats() : EMPTY_STATS;
    },
    getFrequencyData(source, out) {
      if (current) return current.getFrequencyData(source, out);
      const empty = out ?? new Uint8Array(128);
      empty.fill(0);
      return empty;
    },
    setTurnTaking(next) {
      turnTaking = next;
      current?.setTurnTaking(next);
    },
    pressToTalk() {
      current?.pressToTalk();
    },
    releaseToTalk() {
      current?.releaseToTalk();
    },
    setInputDevice(deviceId) {
      inputDeviceId = deviceId;
      return current ? current.setInputDevice(deviceId) : Promise.resolve();
    },
    setOutputDevice(deviceId) {
      outputDeviceId = deviceId;
      return current ? current.setOutputDevice(deviceId) : Promise.resolve();
    },
    on(event, listener) {
      let listeners = eventListeners.get(event);
      if (!listeners) {
        listeners = new Set();
        eventListeners.set(event, listeners);
        if (current) attachEvent(current, event);
      }
      listeners.add(listener as AnyListener);
      return () => {
        listeners.delete(listener as AnyListener);
      };
    },
    get options() {
      return current ? current.options : getOptions();
    },
    setOptions(options) {
      current?.setOptions(options);
    },
    setCallbacks(callbacks) {
      callbackOverrides = { ...callbacks };
    },
  };
  return lazy;
}
