import { playai } from '../providers/playai/provider.ts';
import type { Provider } from '../providers/types.ts';
import type { ConversationOptions } from './types.ts';

/**
 * The provider of a conversation without a `provider` option: PlayAI's talk protocol with the
 * top-level `agentId`, `customGreeting` and `prompt` (every call written before providers keeps
 * working). Its protocol loads with the call, like every provider's (lazyProvider.ts).
 */
export function defaultProvider(options: ConversationOptions): Provider {
  return playai({
    agentId: options.agentId as string,
    ...(options.customGreeting !== undefined ? { customGreeting: options.customGreeting } : {}),
    ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
  });
}
