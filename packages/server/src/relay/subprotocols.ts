/**
 * Subprotocol negotiation on both legs. Browsers cannot set headers on a WebSocket, so vendors
 * take browser credentials as subprotocols (OpenAI `openai-insecure-api-key.<key>`, ElevenLabs
 * `bearer.<token>`, Deepgram the pair `token`, `<key>` or `bearer`, `<token>`). Through the relay
 * the browser holds no vendor credential: whatever it offers of that kind is neither echoed nor
 * passed on. Browsers (and `ws`) fail a handshake whose answer names no subprotocol they offered,
 * so the relay echoes one the browser offered (the vendor's own, `realtime` or `convai`, first).
 */
import type { ProviderSpec } from './providers.ts';

/** Subprotocols that are a credential by their prefix. */
const CREDENTIAL_PREFIXES = ['openai-insecure-api-key.', 'bearer.', 'token.', 'xi-api-key.', 'api-key.'];
/** Subprotocols whose *next* entry is the credential (Deepgram's browser form). */
const CREDENTIAL_MARKERS = new Set(['token', 'bearer']);

export interface Negotiation {
  /** The subprotocol the relay answers the browser with; false when it offered none. */
  echo: string | false;
  /** What the relay offers the vendor. */
  upstream: string[];
  /** The browser offered subprotocols, every one a credential: there is nothing to answer with. */
  refused: boolean;
}

/** The offered subprotocols in the browser's order (`Sec-WebSocket-Protocol: a, b`). */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/** The offered subprotocols that carry no credential, in order. */
export function credentialFree(offered: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < offered.length; i++) {
    const value = offered[i] as string;
    const lower = value.toLowerCase();
    if (CREDENTIAL_PREFIXES.some((prefix) => lower.startsWith(prefix))) continue;
    if (i > 0 && CREDENTIAL_MARKERS.has((offered[i - 1] as string).toLowerCase())) continue;
    out.push(value);
  }
  return out;
}

export function negotiate(spec: ProviderSpec, offered: readonly string[]): Negotiation {
  if (offered.length === 0) return { echo: false, upstream: [], refused: false };
  const clean = credentialFree(offered);
  const known = clean.filter((value) => spec.subprotocols.includes(value));
  const echo = known[0] ?? clean[0];
  if (echo === undefined) return { echo: false, upstream: [], refused: true };
  return { echo, upstream: known, refused: false };
}
