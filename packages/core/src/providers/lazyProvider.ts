import type { Provider, ProviderSession, ProviderStartOptions } from './types.ts';

/** What a provider's lazily loaded module offers: its session, started with the factory's options. */
export interface ProviderModule<O> {
  startSession(options: O, start: ProviderStartOptions): ProviderSession | string;
}

/**
 * A provider whose protocol loads at `start()` (or `preload()`): what a page bundles at import is
 * this factory and the options, and the wire protocol (decoding, encoding, its messages) is a
 * chunk of its own, fetched with the call. A chunk that fails to load is tried again at the next
 * start.
 */
export function lazyProvider<O>(name: string, options: O, load: () => Promise<ProviderModule<O>>): Provider {
  let loading: Promise<ProviderModule<O>> | undefined;
  const module = (): Promise<ProviderModule<O>> => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return {
    name,
    start: (start) => module().then((loaded) => loaded.startSession(options, start)),
    preload() {
      module().catch(() => {});
    },
  };
}
