/**
 * The relay's options checked and completed, and what follows from the provider: where the
 * browser connects, how a request is matched, and how each session's upstream socket is asked for.
 */
import type { IncomingMessage } from 'node:http';
import { DIALECTS, type RelayDialect } from './dialects.ts';
import {
  httpBaseOf,
  matchPath,
  PROVIDER_SPECS,
  type ProviderSpec,
  passedQuery,
  RELAY_PROVIDERS,
  resolveEndpoint,
  type UpstreamRequest,
  upstreamRequest,
  withQuery,
} from './providers.ts';
import { consoleLogger } from './refusals.ts';
import { fetchSignedUrl } from './signedUrl.ts';
import { type Negotiation, negotiate, offeredSubprotocols } from './subprotocols.ts';
import type { RelayLogger, RelayOptions } from './types.ts';

/** A request on the relay's path. */
export interface Route {
  /** The browser's URL (path and query). */
  url: URL;
  /** PlayAI's agent id from the path; '' for the other providers. */
  pathTarget: string;
  negotiation: Negotiation;
}

export interface RelayConfig {
  spec: ProviderSpec;
  dialect: RelayDialect;
  /** The vendor endpoint (PlayAI: the talk base the agent id is appended to). */
  endpoint: string;
  path: string;
  maxSessionsPerToken: number;
  maxSessionsPerAgent: number;
  leaseTtlMs: number;
  idleTimeoutMs: number;
  maxMessageBytes: number;
  upstreamTimeoutMs: number;
  allowedOrigins: Set<string> | null;
  log: RelayLogger;
  /** ElevenLabs with `signedUrl`: the REST base the signed URL is asked of. */
  signedUrlBase: string | null;
  /** The route of a request on the relay's path; null for a foreign path. */
  route(req: IncomingMessage): Route | null;
  /** The upstream request for a route: the vendor's URL, credential and subprotocols. */
  connect(route: Route, signal: AbortSignal): UpstreamRequest | Promise<UpstreamRequest>;
}

export function relayConfig(options: RelayOptions): RelayConfig {
  const provider = options.provider ?? 'playai';
  if (!RELAY_PROVIDERS.includes(provider))
    throw new TypeError(
      `createRelay: unknown provider ${JSON.stringify(provider)}; one of ${RELAY_PROVIDERS.join(', ')}`,
    );
  const spec = PROVIDER_SPECS[provider];
  if (!options.apiKey) throw new TypeError('createRelay: `apiKey` is required');
  if (!options.secret) throw new TypeError('createRelay: `secret` is required');
  const endpoint = resolveEndpoint(spec, options.upstream);
  if ((options.signedUrl || options.httpBase !== undefined) && provider !== 'elevenlabs')
    throw new TypeError('createRelay: `signedUrl` and `httpBase` are for the elevenlabs provider');
  if (options.httpBase !== undefined && !/^https?:\/\//.test(options.httpBase))
    throw new TypeError('createRelay: `httpBase` must be an http:// or https:// URL');
  const signedUrlBase = options.signedUrl ? (options.httpBase ?? httpBaseOf(endpoint)) : null;
  const leaseTtlMs = options.leaseTtlMs ?? 10_000;
  if (!(leaseTtlMs >= 100)) throw new TypeError('createRelay: `leaseTtlMs` must be at least 100');
  const path = (options.path ?? spec.path).replace(/\/+$/, '');
  const apiKey = options.apiKey;

  return {
    spec,
    dialect: DIALECTS[provider],
    endpoint,
    path,
    maxSessionsPerToken: options.maxSessionsPerToken ?? 2,
    maxSessionsPerAgent: options.maxSessionsPerAgent ?? 0,
    leaseTtlMs,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxMessageBytes: options.maxMessageBytes ?? 128 * 1024,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 10_000,
    allowedOrigins: options.allowedOrigins ? new Set(options.allowedOrigins) : null,
    log: options.log === false ? () => {} : typeof options.log === 'function' ? options.log : consoleLogger,
    signedUrlBase,
    route(req) {
      const url = new URL(req.url ?? '/', 'http://relay.invalid');
      const pathTarget = matchPath(spec, path, url.pathname);
      if (pathTarget === null) return null;
      const offered = offeredSubprotocols(req.headers['sec-websocket-protocol']);
      return { url, pathTarget, negotiation: negotiate(spec, offered) };
    },
    connect(route, signal) {
      const query = passedQuery(spec, route.url);
      const protocols = route.negotiation.upstream;
      if (signedUrlBase === null)
        return upstreamRequest(spec, endpoint, route.pathTarget, query, protocols, apiKey);
      const agentId = route.url.searchParams.get('agent_id') ?? '';
      return fetchSignedUrl(signedUrlBase, agentId, apiKey, signal).then((signed) => ({
        url: withQuery(signed, query),
        headers: {},
        protocols,
      }));
    },
  };
}
