import type { Provider } from '../providers/types.ts';
import type { ConversationOptions } from './types.ts';

type PlayAIFactory = typeof import('../providers/playai/provider.ts').playai;

/** PlayAI's factory once loaded: later calls are synchronous. */
let playai: PlayAIFactory | undefined;
let loading: Promise<PlayAIFactory> | undefined;

/**
 * The provider of a conversation without a `provider` option: PlayAI's talk protocol with the
 * top-level `agentId`, `customGreeting` and `prompt` (every call written before providers keeps
 * working). Loaded with the call, not with the page: a page that passes its own provider never
 * downloads PlayAI's, and one that does not fetches it beside the audio engine at `start()`.
 * Returns the provider at once when it has loaded before, a promise the first time.
 */
export function defaultProvider(options: ConversationOptions): Provider | Promise<Provider> {
  if (playai !== undefined) return withOptions(playai, options);
  loading ??= import('../providers/playai/provider.ts').then(
    (module) => {
      playai = module.playai;
      return module.playai;
    },
    (error: unknown) => {
      // A chunk that failed to load (a network blip) is tried again at the next start().
      loading = undefined;
      throw error;
    },
  );
  return loading.then((factory) => withOptions(factory, options));
}

function withOptions(factory: PlayAIFactory, options: ConversationOptions): Provider {
  return factory({
    agentId: options.agentId as string,
    ...(options.customGreeting !== undefined ? { customGreeting: options.customGreeting } : {}),
    ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
  });
}

/** Start loading the default provider now (a page about to offer a call warms it up). */
export function preloadDefaultProvider(): void {
  if (playai === undefined) void Promise.resolve(defaultProvider({ agentId: '' })).catch(() => {});
}
