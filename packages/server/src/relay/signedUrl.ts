/**
 * ElevenLabs' signed URLs, fetched by the relay: `GET /v1/convai/conversation/get-signed-url?agent_id=…`
 * with `xi-api-key` answers `{ "signed_url": "wss://…?agent_id=…&conversation_signature=…" }`, a
 * one-conversation URL that needs no key. The relay connects to it instead of sending its key on
 * the socket.
 */

export class SignedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignedUrlError';
  }
}

export async function fetchSignedUrl(
  httpBase: string,
  agentId: string,
  apiKey: string,
  signal: AbortSignal,
): Promise<string> {
  const url = new URL('/v1/convai/conversation/get-signed-url', httpBase);
  url.searchParams.set('agent_id', agentId);
  let response: Response;
  try {
    response = await fetch(url, { headers: { 'xi-api-key': apiKey }, signal, redirect: 'error' });
  } catch (error) {
    throw new SignedUrlError(`signed URL request failed: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new SignedUrlError(`signed URL request refused with HTTP ${response.status}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new SignedUrlError('signed URL answer is not JSON');
  }
  const signed = (body as { signed_url?: unknown } | null)?.signed_url;
  if (typeof signed !== 'string' || !/^wss?:\/\//.test(signed))
    throw new SignedUrlError('signed URL answer has no ws(s):// signed_url');
  return signed;
}
