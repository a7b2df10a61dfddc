import { createStore } from 'zustand/vanilla';
import { emptyFrequencyData } from '../audio/frequencyData.ts';
import { setContextOutputDevice } from '../audio/outputDevice.ts';
import { VoicewireError } from '../errors.ts';
import { supportsOutputDeviceSelection } from '../platform/devices.ts';
import { openAudioContext } from './audioContext.ts';
import { errorText } from './conversationError.ts';
import { createEmitter } from './emitter.ts';
import type { Engine } from './engine.ts';
import { nextStatus } from './lifecycle.ts';
import type { Shell } from './shell.ts';
import { createTalkGate } from './talkGate.ts';
import type {
  Conversation,
  ConversationCallbacks,
  ConversationEventMap,
  ConversationOptions,
  ConversationState,
  ConversationStats,
  ReadonlyStore,
} from './types.ts';

const INITIAL_STATE: ConversationState = Object.freeze({
  status: 'idle',
  mode: 'listening',
  conversationId: null,
  transcript: [],
  isMuted: false,
  error: null,
  turnTaking: 'vad',
  talking: false,
}) as ConversationState;

type EngineModule = typeof import('./engine.ts');
/** The engine's module once loaded: later calls start synchronously. */
let engineModule: EngineModule | undefined;
let engineLoading: Promise<EngineModule> | undefined;

/**
 * Hand the engine over already loaded (`@voicewire/core/testing` does: a test steps its scripted
 * server synchronously and must not wait for the engine's lazy import). Internal.
 */
export function provideEngine(module: EngineModule): void {
  engineModule ??= module;
}

function loadEngine(): Promise<EngineModule> {
  engineLoading ??= import('./engine.ts').then(
    (module) => {
      engineModule = module;
      return module;
    },
    (error: unknown) => {
      // A chunk that failed to load (a network blip) is tried again at the next start().
      engineLoading = undefined;
      throw error;
    },
  );
  return engineLoading;
}

/**
 * Create a live voice conversation with an agent. The `provider` option says which service and
 * wire protocol (`playai()` by default, `openaiRealtime()`, `elevenlabs()`…); everything else
 * works the same with every provider. Nothing happens until `start()` (no socket, no microphone,
 * no browser global touched), so it is safe to create during server-side rendering or a React
 * render.
 *
 * What a page loads with it is small: the state, the events and the options live here, and what
 * runs a call (engine.ts: the socket, the provider's protocol, the audio engine) is loaded at the
 * first `start()`, or earlier with `preload()`. The AudioContext is opened here, synchronously,
 * inside the user's gesture.
 */
export function createConversation(initialOptions: ConversationOptions): Conversation {
  let options = initialOptions;
  let volume = 1;
  let turnCounter = 0;
  let engine: Engine | null = null;
  /** A `start()` waiting for the engine to load: stop() cancels it, text waits in it. */
  let pending: { started: Promise<void>; cancelled: boolean; texts: string[] } | null = null;
  const talkGate = createTalkGate({
    turnTaking: initialOptions.turnTaking === 'pushToTalk' ? 'pushToTalk' : 'vad',
    ...(initialOptions.releaseTailMs !== undefined ? { tailMs: initialOptions.releaseTailMs } : {}),
  });
  const store = createStore<ConversationState>()(() => ({
    ...INITIAL_STATE,
    transcript: [],
    turnTaking: talkGate.turnTaking,
  }));
  // Callbacks are read from the options when an event fires: replacing them never reconnects.
  const events = createEmitter<ConversationEventMap>(() => options);

  /** Writes only what changed, so subscribers never see a no-op update. */
  function update(patch: Partial<ConversationState>): void {
    const state = store.getState();
    const keys = Object.keys(patch) as (keyof ConversationState)[];
    if (keys.every((key) => Object.is(state[key], patch[key]))) return;
    store.setState(patch);
    if (patch.status !== undefined && patch.status !== state.status)
      events.emit('statusChange', patch.status);
    if (patch.mode !== undefined && patch.mode !== state.mode) events.emit('modeChange', patch.mode);
  }

  const shell: Shell = {
    store,
    events,
    options: () => options,
    update,
    talkGate,
    chosen: {},
    volume: () => volume,
    nextTurnId: () => `turn-${++turnCounter}`,
  };
  const ensureEngine = (module: EngineModule): Engine => {
    engine ??= module.createEngine(shell);
    return engine;
  };

  function start(): Promise<void> {
    if (pending !== null) return pending.started;
    const live = engine?.started();
    if (live) return live;
    // Before any await: iOS Safari only lets a context created or resumed in the gesture make sound.
    const opened = openAudioContext({
      AudioContext: options.AudioContext,
      output: { deviceId: shell.chosen.output ?? (options.output?.deviceId || undefined) },
    });
    if (engineModule !== undefined) return ensureEngine(engineModule).start(opened);
    // The first call: the engine loads, meanwhile the conversation is connecting.
    talkGate.reset();
    update({
      status: nextStatus(store.getState().status, 'start'),
      mode: 'listening',
      conversationId: null,
      transcript: [],
      error: null,
      talking: false,
    });
    const waiting = { started: Promise.resolve(), cancelled: false, texts: [] as string[] };
    pending = waiting;
    waiting.started = loadEngine().then(
      (module) => {
        pending = null;
        const loaded = ensureEngine(module);
        if (waiting.cancelled) {
          if (opened.ok) void opened.controller.close().catch(() => {});
          return;
        }
        const started = loaded.start(opened);
        for (const text of waiting.texts) loaded.sendCustomInput(text);
        return started;
      },
      (error: unknown) => {
        pending = null;
        if (opened.ok) void opened.controller.close().catch(() => {});
        if (waiting.cancelled) return;
        const failure = {
          kind: 'network' as const,
          message: `The voice engine could not be loaded: ${errorText(error)}`,
          fatal: true,
        };
        update({ status: nextStatus(store.getState().status, 'fail'), error: failure });
        events.emit('error', failure);
        events.emit('disconnect', { by: 'network', error: failure });
      },
    );
    return waiting.started;
  }

  function setMuted(isMuted: boolean): void {
    update({ isMuted });
    engine?.muted(isMuted);
  }

  const conversation: Conversation = {
    store: store as ReadonlyStore<ConversationState>,
    start,
    stop(by: 'user' | 'unmount' = 'user') {
      if (pending !== null) {
        // Stopped while the engine was loading: nothing was opened but the context.
        pending.cancelled = true;
        pending = null;
        update({ status: nextStatus(store.getState().status, 'end'), mode: 'listening', talking: false });
        events.emit('disconnect', { by });
        return Promise.resolve();
      }
      return engine?.stop(by) ?? Promise.resolve();
    },
    mute: () => setMuted(true),
    unmute: () => setMuted(false),
    setVolume(value: number) {
      if (typeof value !== 'number' || Number.isNaN(value)) return;
      volume = Math.min(1, Math.max(0, value));
      engine?.setVolume(volume);
    },
    sendCustomInput(text: string) {
      if (typeof text !== 'string') return;
      if (pending !== null) pending.texts.push(text);
      else engine?.sendCustomInput(text);
    },
    getInputLevel: () => engine?.getInputLevel() ?? 0,
    getOutputLevel: () => engine?.getOutputLevel() ?? 0,
    getStats: () => engine?.getStats() ?? emptyStats(),
    getFrequencyData: (source, out) => engine?.getFrequencyData(source, out) ?? emptyFrequencyData(out),
    async setInputDevice(deviceId) {
      await engine?.setInputDevice(deviceId || undefined);
      // Also the device of the next start().
      shell.chosen.input = deviceId || undefined;
    },
    async setOutputDevice(deviceId) {
      const context = engine?.liveContext() ?? null;
      if (context) await setContextOutputDevice(context, deviceId);
      else if (!supportsOutputDeviceSelection()) {
        throw new VoicewireError({
          kind: 'unsupported',
          message: 'This browser cannot choose the audio output device (no AudioContext.setSinkId).',
          fatal: false,
        });
      }
      shell.chosen.output = deviceId || undefined;
    },
    setTurnTaking(turnTaking) {
      if (turnTaking !== 'vad' && turnTaking !== 'pushToTalk') return;
      if (turnTaking === talkGate.turnTaking) return;
      talkGate.setTurnTaking(turnTaking);
      // Between calls there is no turn to close.
      if (engine?.live()) engine.turnTakingChanged(turnTaking);
      else talkGate.reset();
      update({ turnTaking, talking: false });
    },
    pressToTalk: () => engine?.pressToTalk(),
    releaseToTalk: () => engine?.releaseToTalk(),
    preload() {
      void loadEngine().then(
        (module) => module.preloadCall(options),
        () => {},
      );
    },
    on: (event, listener) => events.on(event, listener),
    get options() {
      return options;
    },
    setOptions(next: ConversationOptions) {
      const turnTaking = next.turnTaking ?? 'vad';
      // Turn-taking applies at once (no reconnect), as setTurnTaking.
      if (turnTaking !== (options.turnTaking ?? 'vad')) conversation.setTurnTaking(turnTaking);
      options = next;
    },
    setCallbacks(callbacks: ConversationCallbacks) {
      options = { ...withoutCallbacks(options), ...callbacks };
    },
  };
  return conversation;
}

function emptyStats(): ConversationStats {
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
}

/** The options without their `on<Event>` callbacks. */
function withoutCallbacks(options: ConversationOptions): ConversationOptions {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!/^on[A-Z]/.test(key)) rest[key] = value;
  return rest as unknown as ConversationOptions;
}
