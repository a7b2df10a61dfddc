/** `@voicewire/core/elevenlabs`: ElevenLabs Agents as a voicewire provider (docs/providers.md). */
import { lazyProvider } from '../lazyProvider.ts';
import type { Provider } from '../types.ts';
import type { ElevenLabsOptions } from './options.ts';

export { ELEVENLABS_CONVERSATION_URL, type ElevenLabsOptions } from './options.ts';

/**
 * ElevenLabs Agents over a WebSocket (docs/providers.md, "ElevenLabs"): the client sends its
 * overrides (`conversation_initiation_client_data`), the server's first message announces the
 * conversation and the audio formats (`conversation_initiation_metadata`: `pcm_16000` both ways
 * unless the agent is set otherwise; the capture and the player follow what it says). Audio is
 * base64 PCM (or μ-law) in JSON both ways; the server pings and the client answers.
 *
 * Credentials: a public agent needs none. A private agent needs a signed URL, minted by your
 * server with its `xi-api-key` (`GET /v1/convai/conversation/get-signed-url`): return it from
 * `getToken` and it is used as the socket's URL. Any other token is a relay session token, sent
 * as `?token=`. (An API key cannot be used from a browser: ElevenLabs takes it only as a header.)
 * `url` is the endpoint without its query; `?agent_id=` is added.
 *
 * A barge-in: the server says `interruption`; audio of the interrupted response that still
 * arrives is dropped; the transcript keeps what was heard (the server's correction when it sends
 * one). Conversations cannot be resumed: a dropped connection ends the conversation, saying so.
 */
export function elevenlabs(options: ElevenLabsOptions): Provider {
  return lazyProvider('elevenlabs', options, () => import('./session.ts'));
}
