/** `@voicewire/core/hume`: Hume's Empathic Voice Interface as a voicewire provider (docs/providers.md). */
import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { HumeEviOptions } from './options.ts';

export { HUME_EVI_URL, type HumeEviOptions } from './options.ts';

/**
 * Hume's Empathic Voice Interface (EVI) as a voicewire provider (docs/providers.md, "Hume EVI"):
 * `session_settings` goes out as the socket opens (the microphone's format, the prompt and voice)
 * and `chat_metadata` makes it connected. The microphone goes out as `audio_input` (16-bit PCM
 * at 16 kHz, base64); each `audio_output` is a little WAV file the player decodes as it is.
 *
 * Credentials, in the query as Hume's SDK sends them: the `apiKey` option as `api_key`; a token
 * from `getToken` as `access_token` (Hume's access tokens, minted server-side), unless it has the
 * shape of a relay session token (two base64url parts), which goes as `token`.
 *
 * Chats resume: a dropped connection reconnects with `resumed_chat_group_id`, and EVI goes on
 * where it left off.
 */
export function humeEvi(options: HumeEviOptions = {}): Provider {
  return lazyProvider('hume', options, () => import('./session.ts'));
}
