import type {
  Conversation,
  ConversationCallbacks,
  ConversationEventMap,
  ConversationOptions,
  ConversationState,
  ConversationStats,
} from '@voicewire/core';

/** The conversation's read-only store, plus the `setState` these fakes drive it with. */
type StoreApi = Conversation['store'] & {
  setState(
    partial: Partial<ConversationState> | ((state: ConversationState) => Partial<ConversationState>),
    replace?: boolean,
  ): void;
};

export const IDLE: ConversationState = {
  status: 'idle',
  mode: 'listening',
  conversationId: null,
  transcript: [],
  isMuted: false,
  error: null,
  turnTaking: 'vad',
  talking: false,
};

/** The same contract as zustand/vanilla's store, small enough to read at a glance. */
export function createTestStore(initial: ConversationState): StoreApi {
  let state = initial;
  const listeners = new Set<(state: ConversationState, previous: ConversationState) => void>();
  return {
    getState: () => state,
    getInitialState: () => initial,
    setState: ((partial: unknown, replace?: boolean) => {
      const next =
        typeof partial === 'function' ? (partial as (s: ConversationState) => unknown)(state) : partial;
      const nextState = (replace ? next : { ...state, ...(next as object) }) as ConversationState;
      if (Object.is(nextState, state)) return;
      const previous = state;
      state = nextState;
      for (const listener of [...listeners]) listener(state, previous);
    }) as StoreApi['setState'],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface FakeConversation extends Conversation {
  /** Sockets this conversation would have opened: one per start() from a not-live state. */
  socketsOpened: number;
  stopCalls: number;
  /** preload() calls. */
  preloads: number;
  inputLevel: number;
  outputLevel: number;
  levelReads: number;
  /** What getFrequencyData returns (each bin), per source; reads are counted in `levelReads`. */
  spectrum: { input: (bin: number) => number; output: (bin: number) => number };
  /** Devices passed to setInputDevice/setOutputDevice, in order. */
  deviceCalls: string[];
  callbacks: ConversationCallbacks;
  options: ConversationOptions;
  /** Put the conversation into a state, as its controller would after server messages. */
  set(partial: Partial<ConversationState>): void;
}

/**
 * A Conversation that keeps to the contract without audio or a network, for component tests that
 * need to put a conversation in an exact state. start() goes to `connecting` and stays there
 * until the test moves it on.
 */
export function createFakeConversation(initial: Partial<ConversationState> = {}): FakeConversation {
  const store = createTestStore({ ...IDLE, ...initial });
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const fake: FakeConversation = {
    store,
    socketsOpened: 0,
    stopCalls: 0,
    preloads: 0,
    inputLevel: 0,
    outputLevel: 0,
    levelReads: 0,
    spectrum: { input: () => 0, output: () => 0 },
    deviceCalls: [],
    callbacks: {},
    set(partial) {
      store.setState(partial);
    },
    async start() {
      const { status } = store.getState();
      if (status === 'connecting' || status === 'connected' || status === 'reconnecting') return;
      fake.socketsOpened += 1;
      store.setState({ ...IDLE, status: 'connecting' });
    },
    async stop() {
      fake.stopCalls += 1;
      const { status } = store.getState();
      if (status === 'idle' || status === 'ended' || status === 'error') return;
      store.setState({ status: 'ended', mode: 'listening' });
    },
    mute() {
      store.setState({ isMuted: true });
    },
    unmute() {
      store.setState({ isMuted: false });
    },
    setVolume() {},
    sendCustomInput() {},
    getInputLevel() {
      fake.levelReads += 1;
      return fake.inputLevel;
    },
    getOutputLevel() {
      fake.levelReads += 1;
      return fake.outputLevel;
    },
    getFrequencyData(source, out) {
      fake.levelReads += 1;
      const target = out ?? new Uint8Array(128);
      for (let bin = 0; bin < target.length; bin++) target[bin] = fake.spectrum[source](bin);
      return target;
    },
    setTurnTaking(turnTaking) {
      store.setState({ turnTaking, talking: false });
    },
    pressToTalk() {
      const { status, turnTaking, mode } = store.getState();
      if (status !== 'connected' || turnTaking !== 'pushToTalk') return;
      store.setState({ talking: true, mode: mode === 'agentSpeaking' ? 'userSpeaking' : mode });
    },
    releaseToTalk() {
      store.setState({ talking: false });
    },
    async setInputDevice(deviceId) {
      fake.deviceCalls.push(`input:${deviceId ?? ''}`);
    },
    async setOutputDevice(deviceId) {
      fake.deviceCalls.push(`output:${deviceId}`);
    },
    getStats(): ConversationStats {
      return {
        framesSent: 0,
        framesDropped: 0,
        framesHeldBack: 0,
        bytesSent: 0,
        messagesReceived: 0,
        bytesReceived: 0,
        reconnects: 0,
        timeToFirstAudioMs: [],
        interruptionMs: [],
      };
    },
    on<E extends keyof ConversationEventMap>(event: E, listener: ConversationEventMap[E]) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener as (...args: unknown[]) => void);
      return () => set.delete(listener as (...args: unknown[]) => void);
    },
    options: { agentId: 'fake-agent' },
    setOptions(options) {
      fake.options = options;
    },
    preload() {
      fake.preloads += 1;
    },
    setCallbacks(callbacks) {
      fake.callbacks = callbacks;
    },
  };
  return fake;
}
