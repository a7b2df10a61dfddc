/** `@voicewire/core/openai`: OpenAI's Realtime API as a voicewire provider (docs/providers.md). */
import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { OpenAIRealtimeOptions } from './options.ts';

export { OPENAI_REALTIME_URL, type OpenAIRealtimeOptions } from './options.ts';

/**
 * OpenAI's Realtime API over a WebSocket (docs/providers.md, "OpenAI Realtime"): the session is
 * configured with `session.update` and counts as connected on `session.updated`; audio is PCM16
 * at 24 kHz both ways (μ-law at 8 kHz when `input.encoding` / `output.format` is `mulaw`).
 *
 * Credentials: an API key (the `apiKey` option, prototypes only) or an ephemeral key `ek_…`
 * returned by `getToken` travel as the subprotocol `openai-insecure-api-key.<key>`, as OpenAI's
 * browser clients send them; any other token is a relay session token, sent as `?token=`. `url`
 * is the endpoint without its query (`wss://relay.example.com/v1/realtime`); `?model=` is added.
 *
 * A barge-in truncates the item the user was hearing at the played position
 * (`conversation.item.truncate` with `audio_end_ms`), so the model's context holds only what was
 * heard. Sessions cannot be resumed: a dropped connection ends the conversation, saying so.
 */
export function openaiRealtime(options: OpenAIRealtimeOptions = {}): Provider {
  return lazyProvider('openai', options, () => import('./session.ts'));
}
