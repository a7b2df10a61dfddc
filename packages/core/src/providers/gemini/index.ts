/** `@voicewire/core/gemini`: Gemini Live as a voicewire provider (docs/providers.md). */
import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { GeminiLiveOptions } from './options.ts';

export { GEMINI_LIVE_URL, type GeminiLiveOptions } from './options.ts';

/**
 * Gemini Live (the Gemini API's `BidiGenerateContent` WebSocket) as a voicewire provider
 * (docs/providers.md, "Gemini Live"): the `setup` message opens the session and `setupComplete`
 * makes it connected; the microphone goes out as `realtimeInput.audio` (16-bit PCM at 16 kHz),
 * the model's voice comes as 16-bit PCM at 24 kHz in `serverContent.modelTurn`.
 *
 * Credentials: the `apiKey` option travels as `?key=`; a token from `getToken` that is an
 * ephemeral `auth_tokens/…` goes as `?access_token=` to the v1alpha `BidiGenerateContentConstrained`
 * endpoint (as Google's SDK sends it); any other token is a relay session token, `?token=`.
 * `url` is the endpoint without its query.
 *
 * Sessions resume: the session asks for resumption handles, and a dropped connection (or a close
 * after the server's `goAway`) reconnects with the newest one, keeping the model's context.
 */
export function geminiLive(options: GeminiLiveOptions = {}): Provider {
  return lazyProvider('gemini', options, () => import('./session.ts'));
}
