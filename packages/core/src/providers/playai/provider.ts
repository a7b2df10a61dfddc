import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { PlayAIOptions } from './options.ts';

/**
 * PlayAI's agent talk protocol (docs/protocol.md): `wss://api.play.ai/v1/talk/<agentId>`, a
 * `setup` message first, the agent's `init`, audio as base64 in JSON both ways. The default
 * provider: a conversation without a `provider` option talks PlayAI with its `agentId`,
 * `customGreeting` and `prompt` options.
 *
 * Credentials: `apiKey` travels in `setup`; a token (`token`, `getToken`) is a relay session
 * token, sent as `?token=` on the socket URL. `url` is a base like `wss://host/v1/talk` (the
 * socket opens `<url>/<agentId>`), or the deployed SDK's `/v1/agents` path; see
 * docs/protocol.md, "Endpoints". A dropped connection resumes the same conversation
 * (`continueConversation`).
 */
export function playai(options: PlayAIOptions): Provider {
  return lazyProvider('playai', options, () => import('./session.ts'));
}
