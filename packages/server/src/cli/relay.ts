#!/usr/bin/env node
/**
 * `voicewire-relay`: the relay as a standalone server.
 *
 *   pnpm relay -- --port 8788 --upstream ws://127.0.0.1:8787/v1/talk --api-key KEY --secret SECRET
 *   pnpm relay -- --provider openai --api-key sk-... --secret SECRET
 *
 * The key and secret may also come from VOICEWIRE_API_KEY and VOICEWIRE_RELAY_SECRET, which
 * keeps them out of the process list; the Redis URL from VOICEWIRE_REDIS_URL.
 *
 * SIGTERM (or SIGINT) drains: /health turns 503, no new sessions, live ones go on for up to
 * --drain-ms, then close with 1001 (going away) so their clients reconnect through another instance.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createRelay } from '../relay/createRelay.ts';
import {
  PROVIDER_SPECS,
  RELAY_PROVIDERS,
  type RelayProviderName,
  resolveEndpoint,
} from '../relay/providers.ts';
import { redisStore } from '../relay/redisStore.ts';
import { createSessionToken } from '../relay/sessionToken.ts';

const USAGE = `Usage: voicewire-relay [--provider <name>] [--upstream <ws url>] --api-key <key> --secret <secret> [options]

  --provider <name>           the vendor: playai (default), openai, elevenlabs, gemini, deepgram
                              or hume; its key is carried its way (setup.apiKey, Authorization:
                              Bearer, xi-api-key, ?key=, Authorization: Token, ?api_key=)
  --port <n>                  port to listen on (default 8788; 0 picks a free one)
  --host <addr>               address to bind (default 127.0.0.1)
  --upstream <url>            where the vendor is. playai (required): the talk URL the agent id
                              is appended to, e.g. ws://127.0.0.1:8787/v1/talk. The others: an
                              origin (ws://127.0.0.1:8787 gets the vendor's path) or a full
                              endpoint URL (default: the vendor's own, e.g. wss://api.openai.com)
  --api-key <key>             the vendor's API key (or VOICEWIRE_API_KEY)
  --secret <secret>           the session-token secret (or VOICEWIRE_RELAY_SECRET)
  --signed-url                elevenlabs: fetch a signed URL per conversation (xi-api-key on
                              the REST call) instead of sending the key on the socket
  --http-base <url>           elevenlabs: the REST base for --signed-url (default: --upstream's
                              origin as http(s), e.g. https://api.elevenlabs.io)
  --allowed-origin <origin>   a page origin allowed to connect; repeatable (default: any)
  --redis <url>               share session limits, single-use tokens and revocations with
                              other instances through Redis (or VOICEWIRE_REDIS_URL),
                              e.g. redis://127.0.0.1:6379 (default: this process's memory)
  --redis-prefix <prefix>     key prefix in Redis (default voicewire:relay:)
  --max-sessions-per-token <n>  (default 2)
  --max-sessions-per-agent <n>  per agent, model or config (default: no limit)
  --lease-ttl-ms <ms>         a dead instance's sessions stop counting after this (default 10000)
  --metrics                   serve GET /metrics (Prometheus text format)
  --drain-ms <ms>             on SIGTERM, how long live sessions may go on (default 25000)
  --idle-timeout-ms <ms>      (default 60000)
  --max-message-bytes <n>     (default 131072)
  --dev-token-endpoint        serve GET /token?target=... (or ?agentId=) — a stand-in for your
                              own backend, for local demos only: anyone who can reach it gets a
                              token. Without a target (not for playai) the token opens any
  --token-ttl <seconds>       lifetime of tokens from the dev endpoint (default 300)
  --quiet                     no log lines
`;

function fail(message: string): never {
  process.stderr.write(`voicewire-relay: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`);
  return n;
}

const argv = process.argv.slice(2);
// `pnpm relay -- --port 1` hands the script a literal `--` first.
if (argv[0] === '--') argv.shift();

let values: ReturnType<typeof parse>['values'];
function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    options: {
      provider: { type: 'string' },
      'signed-url': { type: 'boolean' },
      'http-base': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      upstream: { type: 'string' },
      'api-key': { type: 'string' },
      secret: { type: 'string' },
      'allowed-origin': { type: 'string', multiple: true },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string' },
      'max-sessions-per-token': { type: 'string' },
      'max-sessions-per-agent': { type: 'string' },
      'lease-ttl-ms': { type: 'string' },
      metrics: { type: 'boolean' },
      'drain-ms': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'dev-token-endpoint': { type: 'boolean' },
      'token-ttl': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  values = parse(argv).values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const provider = (values.provider ?? 'playai') as RelayProviderName;
if (!RELAY_PROVIDERS.includes(provider)) fail(`--provider must be one of ${RELAY_PROVIDERS.join(', ')}`);
const spec = PROVIDER_SPECS[provider];
const upstream = values.upstream;
const apiKey = values['api-key'] ?? process.env.VOICEWIRE_API_KEY;
const secret = values.secret ?? process.env.VOICEWIRE_RELAY_SECRET;
if (!upstream && provider === 'playai') fail('--upstream is required');
if (upstream !== undefined && !/^wss?:\/\//.test(upstream)) fail('--upstream must be a ws:// or wss:// URL');
if ((values['signed-url'] || values['http-base'] !== undefined) && provider !== 'elevenlabs')
  fail('--signed-url and --http-base are for --provider elevenlabs');
if (!apiKey) fail('--api-key (or VOICEWIRE_API_KEY) is required');
if (!secret) fail('--secret (or VOICEWIRE_RELAY_SECRET) is required');

const port = integer(values.port, 'port', 8788);
const host = values.host ?? '127.0.0.1';
const allowedOrigins = values['allowed-origin'];
const tokenTtlSeconds = integer(values['token-ttl'], 'token-ttl', 300);
const devTokenEndpoint = values['dev-token-endpoint'] === true;
const drainMs = integer(values['drain-ms'], 'drain-ms', 25_000);
const redisUrl = values.redis ?? process.env.VOICEWIRE_REDIS_URL;
if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
  fail('--redis must be a redis:// or rediss:// URL');
const quiet = values.quiet === true;
const leaseTtlMs = integer(values['lease-ttl-ms'], 'lease-ttl-ms', 10_000);
if (leaseTtlMs < 100) fail('--lease-ttl-ms must be at least 100');

const store = redisUrl
  ? redisStore({
      url: redisUrl,
      ...(values['redis-prefix'] !== undefined ? { prefix: values['redis-prefix'] } : {}),
    })
  : undefined;

let relay: ReturnType<typeof createRelay>;
try {
  relay = createRelay({
    provider,
    ...(upstream !== undefined ? { upstream } : {}),
    apiKey,
    secret,
    ...(values['signed-url'] ? { signedUrl: true } : {}),
    ...(values['http-base'] !== undefined ? { httpBase: values['http-base'] } : {}),
    ...(allowedOrigins ? { allowedOrigins } : {}),
    ...(store ? { store } : {}),
    maxSessionsPerToken: integer(values['max-sessions-per-token'], 'max-sessions-per-token', 2),
    maxSessionsPerAgent: integer(values['max-sessions-per-agent'], 'max-sessions-per-agent', 0),
    leaseTtlMs,
    metrics: values.metrics === true,
    idleTimeoutMs: integer(values['idle-timeout-ms'], 'idle-timeout-ms', 60_000),
    maxMessageBytes: integer(values['max-message-bytes'], 'max-message-bytes', 128 * 1024),
    log: !quiet,
  });
} catch (error) {
  fail((error as Error).message.replace(/^createRelay: /, ''));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://relay.invalid');
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
  const originAllowed = origin !== undefined && (!allowedOrigins || allowedOrigins.includes(origin));
  if (originAllowed) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
  }
  if (relay.handleRequest(req, res)) return;
  if (url.pathname === '/token' && devTokenEndpoint && (req.method === 'GET' || req.method === 'HEAD')) {
    const target = url.searchParams.get('target') || url.searchParams.get('agentId') || null;
    // A PlayAI relay checks the agent id on every session: a token for none could never open one.
    if (!target && provider === 'playai') {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'agentId is required' }));
      return;
    }
    if (origin !== undefined && !originAllowed) {
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'origin not allowed' }));
      return;
    }
    // Bound to the asking page's origin, so a token lifted from one site is useless on another.
    const token = createSessionToken({
      secret,
      target,
      ttlSeconds: tokenTtlSeconds,
      ...(origin !== undefined ? { origin } : {}),
    });
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify({ token, expiresInSeconds: tokenTtlSeconds }));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
});
relay.attach(server);

server.on('error', (error) => {
  process.stderr.write(`voicewire-relay: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => {
  const { port: bound } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const where = provider === 'playai' ? `${spec.path}/<agentId>` : spec.path;
  process.stdout.write(
    `voicewire relay (${provider}) listening on ws://${shownHost}:${bound}${where} -> ${resolveEndpoint(spec, upstream)}\n` +
      `session store: ${store ? `redis (${redactUrl(redisUrl as string)})` : 'memory (this instance only)'}\n` +
      (devTokenEndpoint
        ? `dev token endpoint: http://${shownHost}:${bound}/token?${provider === 'playai' ? 'agentId=<agentId>' : 'target=<target>'}\n`
        : ''),
  );
});

/** The URL without its password, for the start-up line. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // Keeps listening while draining, so load balancers read the 503 from /health.
  await relay.close({ drainMs });
  await store?.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
