import { guard } from './safely.ts';

/** An event map: event name → listener signature. */
// biome-ignore lint/suspicious/noExplicitAny: listener arguments differ per event.
export type EventMap = Record<string, (...args: any[]) => void>;

/** The callback option for event `E`: `connect` → `onConnect`. */
export type CallbackName<E extends string> = `on${Capitalize<E>}`;

/** One optional callback per event of `M`, named by {@link CallbackName}, with the listener's signature. */
export type EventCallbacks<M extends EventMap> = {
  [E in keyof M & string as CallbackName<E>]?: M[E];
};

export interface Emitter<M extends EventMap> {
  /** Calls the `on<Event>` callback read from `callbacks()` at this moment, then every listener. */
  emit<E extends keyof M & string>(event: E, ...args: Parameters<M[E]>): void;
  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof M & string>(event: E, listener: M[E]): () => void;
}

/**
 * One typed emitter for events and their callback options. A listener or callback that throws
 * is reported on the console and the rest still run: an integrator's bug never breaks the
 * conversation.
 */
export function createEmitter<M extends EventMap>(callbacks: () => EventCallbacks<M>): Emitter<M> {
  const listeners = new Map<keyof M, Set<(...args: never[]) => void>>();
  return {
    emit(event, ...args) {
      const name = `on${event[0]?.toUpperCase()}${event.slice(1)}` as keyof EventCallbacks<M>;
      const callback = callbacks()[name];
      if (typeof callback === 'function') guard(() => callback(...args), CALLBACK_THREW);
      const set = listeners.get(event);
      if (set === undefined) return;
      for (const listener of [...set]) {
        guard(() => (listener as unknown as (...a: typeof args) => void)(...args), CALLBACK_THREW);
      }
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      const entry = listener as (...args: never[]) => void;
      set.add(entry);
      return () => {
        listeners.get(event)?.delete(entry);
      };
    },
  };
}

const CALLBACK_THREW = 'a conversation callback threw:';
