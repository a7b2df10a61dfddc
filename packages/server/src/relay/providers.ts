/**
 * What the relay knows of each vendor's connection: the socket path, where the session's target
 * (what a token may open) is read, which of the browser's query parameters and subprotocols go
 * upstream, and how the vendor's credential is carried. The facts were read from each vendor's
 * own SDK (the relay's README lists them, per provider).
 */

export type RelayProviderName = 'playai' | 'openai' | 'elevenlabs' | 'gemini' | 'deepgram' | 'hume';

export const RELAY_PROVIDERS: readonly RelayProviderName[] = [
  'playai',
  'openai',
  'elevenlabs',
  'gemini',
  'deepgram',
  'hume',
];

/** Where a session's target comes from. */
export type TargetSource =
  /** The path segment after the relay's path (`/v1/talk/<agentId>`). */
  | { from: 'path' }
  /** A query parameter of the browser's URL (absent: the empty string). */
  | { from: 'query'; name: string }
  /** The first client message (Gemini's `setup.model`), checked when it arrives. */
  | { from: 'first-message' }
  /** Nothing names one: only tokens bound to no target open a session. */
  | { from: 'none' };

/** How the vendor's credential reaches it. */
export type CredentialCarrier =
  /** PlayAI: `apiKey` in every `setup` message. */
  | { in: 'setup' }
  /** A request header, `<name>: <prefix><key>`. */
  | { in: 'header'; name: string; prefix: string }
  /** A query parameter of the upstream URL. */
  | { in: 'query'; name: string };

export interface ProviderSpec {
  name: RelayProviderName;
  /** The vendor's socket path: the relay answers on it by default and opens it upstream. */
  path: string;
  /** The vendor's own endpoint (origin only), used when `upstream` is not given. */
  defaultUpstream: string | null;
  target: TargetSource;
  /** What the target is called in refusals ("a token for another model"). */
  targetNoun: string;
  /** Browser query parameters passed upstream: none, the listed ones, or all but credential-like ones. */
  query: 'none' | 'all' | readonly string[];
  /** Subprotocols the vendor's clients offer that carry no credential: echoed first, passed upstream. */
  subprotocols: readonly string[];
  credential: CredentialCarrier;
}

export const PROVIDER_SPECS: Record<RelayProviderName, ProviderSpec> = {
  playai: {
    name: 'playai',
    path: '/v1/talk',
    // The service was sunset at the end of 2025: there is no default to point at.
    defaultUpstream: null,
    target: { from: 'path' },
    targetNoun: 'agent',
    query: 'none',
    subprotocols: [],
    credential: { in: 'setup' },
  },
  openai: {
    name: 'openai',
    path: '/v1/realtime',
    defaultUpstream: 'wss://api.openai.com',
    target: { from: 'query', name: 'model' },
    targetNoun: 'model',
    query: ['model'],
    subprotocols: ['realtime'],
    // The GA API needs no `OpenAI-Beta` header: `openai`'s GA realtime client (realtime/ws) sends
    // only `Authorization`, its beta client (beta/realtime/ws) adds `OpenAI-Beta: realtime=v1`.
    credential: { in: 'header', name: 'Authorization', prefix: 'Bearer ' },
  },
  elevenlabs: {
    name: 'elevenlabs',
    path: '/v1/convai/conversation',
    defaultUpstream: 'wss://api.elevenlabs.io',
    target: { from: 'query', name: 'agent_id' },
    targetNoun: 'agent',
    query: 'all',
    subprotocols: ['convai'],
    credential: { in: 'header', name: 'xi-api-key', prefix: '' },
  },
  gemini: {
    name: 'gemini',
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    defaultUpstream: 'wss://generativelanguage.googleapis.com',
    target: { from: 'first-message' },
    targetNoun: 'model',
    query: 'all',
    subprotocols: [],
    credential: { in: 'query', name: 'key' },
  },
  deepgram: {
    name: 'deepgram',
    path: '/v1/agent/converse',
    defaultUpstream: 'wss://agent.deepgram.com',
    target: { from: 'none' },
    targetNoun: 'target',
    query: 'all',
    subprotocols: [],
    credential: { in: 'header', name: 'Authorization', prefix: 'Token ' },
  },
  hume: {
    name: 'hume',
    path: '/v0/evi/chat',
    defaultUpstream: 'wss://api.hume.ai',
    target: { from: 'query', name: 'config_id' },
    targetNoun: 'config',
    query: 'all',
    subprotocols: [],
    credential: { in: 'query', name: 'api_key' },
  },
};

/**
 * Query parameter names that carry a credential in some vendor's protocol or could (`key`,
 * `api_key`, `access_token`, `xi-api-key`, `conversation_signature`, our own `token`, …): never
 * passed upstream, whatever the provider.
 */
const CREDENTIAL_NAME =
  /(?:key|token|secret|signature|password|passwd|auth|authorization|credentials?|bearer)$/i;

export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/**
 * The vendor endpoint upstream connections go to. For PlayAI, `upstream` is the talk base the
 * agent id is appended to (as always). For the others, an `upstream` with no path gets the
 * vendor's path (`ws://127.0.0.1:8787` → `ws://127.0.0.1:8787/v1/realtime`); one with a path is
 * taken as the endpoint itself (a proxy of your own, say).
 */
export function resolveEndpoint(spec: ProviderSpec, upstream: string | undefined): string {
  const given = upstream ?? spec.defaultUpstream;
  if (!given) throw new TypeError(`createRelay: \`upstream\` is required for the ${spec.name} provider`);
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new TypeError(`createRelay: \`upstream\` is not a URL: ${given}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new TypeError('createRelay: `upstream` must be a ws:// or wss:// URL');
  if (spec.name === 'playai') return given.replace(/\/+$/, '');
  if (url.pathname === '' || url.pathname === '/') url.pathname = spec.path;
  else url.pathname = url.pathname.replace(/\/+$/, '');
  return url.toString();
}

/** The REST base of the vendor (`https://…` for `wss://…`), for ElevenLabs' signed-URL request. */
export function httpBaseOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

/** Matches a request path: the target for a path-borne one, '' otherwise; null for a foreign path. */
export function matchPath(spec: ProviderSpec, path: string, pathname: string): string | null {
  if (spec.target.from !== 'path') return pathname === path || pathname === `${path}/` ? '' : null;
  if (!pathname.startsWith(`${path}/`)) return null;
  let agentId: string;
  try {
    agentId = decodeURIComponent(pathname.slice(path.length + 1));
  } catch {
    return null;
  }
  return agentId && !agentId.includes('/') ? agentId : null;
}

/**
 * The session's target from the request: the value to check the token against, `null` when
 * nothing names one (only unbound tokens pass), `'later'` when it comes in the first message.
 */
export function requestTarget(spec: ProviderSpec, pathTarget: string, url: URL): string | null | 'later' {
  switch (spec.target.from) {
    case 'path':
      return pathTarget;
    case 'query':
      return url.searchParams.get(spec.target.name) ?? '';
    case 'first-message':
      return 'later';
    case 'none':
      return null;
  }
}

/** The browser's query parameters the vendor gets: never a credential, never our token. */
export function passedQuery(spec: ProviderSpec, url: URL): [string, string][] {
  if (spec.query === 'none') return [];
  const allowed = spec.query === 'all' ? null : new Set(spec.query);
  const out: [string, string][] = [];
  for (const [name, value] of url.searchParams) {
    if (isCredentialName(name)) continue;
    if (allowed && !allowed.has(name)) continue;
    // One value per name: a repeated parameter could smuggle a second meaning past the token check.
    if (out.some(([seen]) => seen === name)) continue;
    out.push([name, value]);
  }
  return out;
}

/** How the relay connects upstream for one session. */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  protocols: string[];
}

/** The upstream request with the vendor's credential, the way the vendor takes it. */
export function upstreamRequest(
  spec: ProviderSpec,
  endpoint: string,
  pathTarget: string,
  query: [string, string][],
  protocols: string[],
  apiKey: string,
): UpstreamRequest {
  if (spec.name === 'playai') {
    return { url: `${endpoint}/${encodeURIComponent(pathTarget)}`, headers: {}, protocols: [] };
  }
  const url = new URL(endpoint);
  for (const [name, value] of query) url.searchParams.append(name, value);
  const headers: Record<string, string> = {};
  const { credential } = spec;
  if (credential.in === 'query') url.searchParams.set(credential.name, apiKey);
  else if (credential.in === 'header') headers[credential.name] = `${credential.prefix}${apiKey}`;
  return { url: url.toString(), headers, protocols };
}

/** The signed URL with the browser's other parameters (the SDK's `source`, `version`) added. */
export function withQuery(signedUrl: string, query: [string, string][]): string {
  const url = new URL(signedUrl);
  for (const [name, value] of query) if (!url.searchParams.has(name)) url.searchParams.append(name, value);
  return url.toString();
}
