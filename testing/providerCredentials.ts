/**
 * A site's server minting the browser-safe credentials the vendors hand out, from its key, against
 * the local agent (packages/server/README.md, "Credentials"): an OpenAI ephemeral key (`POST
 * /v1/realtime/client_secrets` with `Authorization: Bearer`) and an ElevenLabs signed URL (`GET
 * /v1/convai/conversation/get-signed-url` with `xi-api-key`; the agent's per-call options, such
 * as `hangupAfterTurns`, travel in it). Imports nothing, so a Vitest config and the bench load
 * it in Node; the key is never given to a page's conversation.
 */

/** The local agent's only key: what a site's server holds (it mints the browser's credentials). */
export const LOCAL_AGENT_KEY = 'voicewire-provider-suites-key';

/**
 * How the page authenticates, as a page does without a relay: PlayAI's key in `setup`
 * (prototypes: the protocol has no browser-safe credential), an OpenAI ephemeral key `ek_…` and
 * an ElevenLabs signed URL, both minted server-side per connection (`getToken`).
 */
export type CredentialKind = 'apiKey' | 'openaiEphemeralKey' | 'elevenlabsSignedUrl';

export async function mintCredential(
  origin: string,
  kind: CredentialKind,
  target: string,
  query: string,
): Promise<string> {
  const http = origin.replace(/^ws/, 'http');
  if (kind === 'openaiEphemeralKey') {
    const response = await fetch(`${http}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ expires_after: { seconds: 600 }, session: { type: 'realtime', model: target } }),
    });
    if (!response.ok) throw new Error(`client_secrets answered ${response.status}`);
    return ((await response.json()) as { value: string }).value;
  }
  if (kind === 'elevenlabsSignedUrl') {
    const response = await fetch(
      `${http}/v1/convai/conversation/get-signed-url?agent_id=${encodeURIComponent(target)}${query ? `&${query}` : ''}`,
      { headers: { 'xi-api-key': LOCAL_AGENT_KEY } },
    );
    if (!response.ok) throw new Error(`get-signed-url answered ${response.status}`);
    return ((await response.json()) as { signed_url: string }).signed_url;
  }
  throw new Error(`nothing to mint for ${kind}`);
}
