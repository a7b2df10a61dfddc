/** `@voicewire/core/deepgram`: Deepgram's Voice Agent API as a voicewire provider (docs/providers.md). */
import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { DeepgramAgentOptions } from './options.ts';

export { DEEPGRAM_AGENT_URL, type DeepgramAgentOptions, type DeepgramSettingsBlock } from './options.ts';

/**
 * Deepgram's Voice Agent API as a voicewire provider (docs/providers.md, "Deepgram Voice Agent"):
 * `Settings` opens the session (sent as the socket opens; the server's `Welcome` names the
 * request) and `SettingsApplied` makes it connected. Audio goes both ways as binary frames, in
 * the encodings `Settings` declares: 16-bit PCM at 16 kHz in and 24 kHz out by default (μ-law at
 * 8 kHz when `input.encoding` / `output.format` is `mulaw`).
 *
 * Credentials, as Deepgram's browser clients send them: the `apiKey` option as the subprotocols
 * `token`, `<key>`; a JSON Web Token from `getToken` (Deepgram's `/v1/auth/grant`) as `bearer`,
 * `<token>`; any other token is a relay session token, sent as `?token=`.
 *
 * Conversations cannot be resumed: a dropped connection ends the conversation, saying so.
 */
export function deepgramAgent(options: DeepgramAgentOptions = {}): Provider {
  return lazyProvider('deepgram', options, () => import('./session.ts'));
}
