/**
 * The local agent: a protocol-faithful stand-in for voice-agent services, so the library can be
 * developed, demonstrated and tested without an account. One brain (session.ts) speaks several
 * vendors' protocols (dialects/), each at the vendor's own path, on one port:
 *
 * - PlayAI's talk protocol: the API page's `ws://HOST:PORT/v1/talk/<agentId>` and the deployed
 *   SDK's `ws://HOST:PORT/v1/agents/<agentId>/start-conversation` (docs/protocol.md);
 * - OpenAI Realtime: `ws://HOST:PORT/v1/realtime?model=…` (and `POST /v1/realtime/client_secrets`);
 * - ElevenLabs Agents: `ws://HOST:PORT/v1/convai/conversation?agent_id=…` (and
 *   `GET /v1/convai/conversation/get-signed-url`);
 * - Gemini Live: `ws://HOST:PORT/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=…`
 *   (and `POST /v1alpha/auth_tokens`);
 * - Deepgram Voice Agent: `ws://HOST:PORT/v1/agent/converse` (and `POST /v1/auth/grant`);
 * - Hume EVI: `ws://HOST:PORT/v0/evi/chat?api_key=…` (and `POST /oauth2-cc/token`).
 *
 * It also answers plain `GET /` and `GET /health`. See docs/providers.md for each protocol.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { closeSpeech, prepareSpeech } from '../audio/index.ts';
import { MAX_HANGUP_AFTER_TURNS, parseSessionQuery, type SessionContext } from './context.ts';
import { ConversationStore } from './conversationStore.ts';
import { type ApiKeyGrant, Credentials } from './credentials.ts';
import type { Dialect, HttpContext } from './dialect.ts';
import { deepgramDialect } from './dialects/deepgram/deepgramDialect.ts';
import { elevenlabsDialect } from './dialects/elevenlabs/elevenlabsDialect.ts';
import { geminiDialect } from './dialects/gemini/geminiDialect.ts';
import { humeDialect } from './dialects/hume/humeDialect.ts';
import { openaiDialect } from './dialects/openai/openaiDialect.ts';
import { TALK_PATH } from './dialects/playai/acceptSetup.ts';
import { playaiDialect } from './dialects/playai/playaiDialect.ts';
import { type ProtocolOptions, protocolSettings } from './protocolOptions.ts';
import { REPLY_TEXT } from './response.ts';
import { AgentSession } from './session.ts';
import { warmSpeech } from './speech.ts';
import { createTicker } from './ticker.ts';

export type { ApiKeyGrant } from './credentials.ts';
export { TALK_PATH } from './dialects/playai/acceptSetup.ts';

/** The protocols served, in the order their paths are tried. */
const DIALECTS: readonly Dialect[] = [
  playaiDialect,
  openaiDialect,
  elevenlabsDialect,
  geminiDialect,
  deepgramDialect,
  humeDialect,
];

export interface LocalAgentOptions extends ProtocolOptions {
  /**
   * TCP port; `0` picks a free one (read it back from `port`).
   * @defaultValue 0 (the `voicewire-agent` command defaults to 8787)
   */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * The keys accepted, on every protocol: PlayAI's `setup.apiKey`, OpenAI's
   * `Authorization: Bearer` or `openai-insecure-api-key.` subprotocol, ElevenLabs' `xi-api-key`,
   * Gemini's `?key=`, Deepgram's `Authorization: Token` or `token` subprotocol, Hume's
   * `?api_key=`. When given, only these and the tokens minted from them (OpenAI `ek_…` keys,
   * ElevenLabs signed URLs, Gemini `auth_tokens/…`, Deepgram grants, Hume access tokens);
   * otherwise any non-empty key. On PlayAI's protocol a missing key gets 1001, an unknown one
   * 1003, a key granted to other agents 4401. For OpenAI and Gemini the model is the agent id,
   * for Hume the `config_id` (`hume` without one), for Deepgram always `deepgram`.
   */
  apiKeys?: ReadonlyArray<string | ApiKeyGrant>;
  /**
   * Accept a connection without a credential, as the services do for public agents (PlayAI's and
   * ElevenLabs' browser SDKs send none for a public agent). A credential that is given is still
   * checked.
   * @defaultValue false (a key is required, as the API pages say)
   */
  allowAnonymous?: boolean;
  /**
   * End every call after this many replies have played: the agent says a short goodbye, sends
   * `hangup` (`endedBy: 'agent'`) and closes with 1000. A client can ask for it per call with
   * `?hangupAfterTurns=N` on the socket URL, which wins over this.
   * @defaultValue never
   */
  hangupAfterTurns?: number;
  /**
   * Concurrent conversations allowed; the next setup gets 4429.
   * @defaultValue unlimited
   */
  maxConnections?: number;
  /**
   * The agent ids served (PlayAI's path id, ElevenLabs' `agent_id`, OpenAI's and Gemini's model,
   * Hume's `config_id` or `hume`, `deepgram` for Deepgram's protocol, which names none); any other
   * is refused (1002 on PlayAI's protocol). Otherwise every id of 1–128 characters from
   * `A–Z a–z 0–9 _ -` (and `.` in a model) is an agent.
   */
  agentIds?: readonly string[];
  /**
   * Silence that ends the user's turn, in ms.
   * @defaultValue 600
   */
  silenceMs?: number;
  /**
   * What the agent says first when the client names no greeting of its own (PlayAI's
   * `customGreeting`, ElevenLabs' `first_message`, Deepgram's `agent.greeting`). An empty string:
   * nothing.
   */
  greeting?: string;
  /**
   * One line per connection when it closes (who, the setup, how long, how it ended). Keys are never
   * logged. `true` writes to the console; a function receives the lines.
   * @defaultValue true
   */
  log?: boolean | ((line: string) => void);
  /**
   * Serve on an existing HTTP(S) server instead of opening a port: the agent only takes the
   * upgrades to its protocols' paths (`/v1/talk/…`, `/v1/agents/…/start-conversation`,
   * `/v1/realtime`, `/v1/convai/conversation`, `/ws/google.ai.generativelanguage.…`,
   * `/v1/agent/converse`, `/v0/evi/chat`) and leaves everything else (and closing the server) to
   * its owner.
   */
  server?: http.Server | https.Server;
}

export interface LocalAgent {
  /** `ws://127.0.0.1:PORT/v1/talk`: clients open `${url}/${agentId}`. */
  readonly url: string;
  readonly port: number;
  /**
   * `ws://127.0.0.1:PORT`: every protocol's path is under it: PlayAI's SDK
   * `${origin}/v1/agents/${agentId}/start-conversation`, OpenAI `${origin}/v1/realtime?model=…`,
   * ElevenLabs `${origin}/v1/convai/conversation?agent_id=…`, Gemini
   * `${origin}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent`, Deepgram
   * `${origin}/v1/agent/converse`, Hume `${origin}/v0/evi/chat`.
   */
  readonly origin: string;
  /** Close every session and stop listening. */
  close(): Promise<void>;
}

export const DEFAULT_GREETING = "Hi! I'm the voicewire local agent. Say something and I'll answer.";
/** Largest client frame accepted: a second of 48 kHz WAV in base64 is ~130 KB. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/**
 * Any rate will do: the synthesiser caches its native rendering and only resamples per rate, so
 * warming one rate makes every rate quick.
 */
const WARM_RATE_HZ = 24_000;
/** Conversations kept for `continueConversation`. */
const REMEMBERED_CONVERSATIONS = 1000;
/** What `agentIds` may hold: agent ids, and OpenAI model names (which may have dots). */
const AGENT_OR_MODEL_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Agents running in this process: the speech process is shared by all of them and stopped
 * when the last one closes.
 */
let runningAgents = 0;

export async function startLocalAgent(options: LocalAgentOptions = {}): Promise<LocalAgent> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  const maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
  if (!(maxConnections >= 0)) throw new RangeError(`maxConnections must be >= 0, got ${maxConnections}`);
  const silenceMs = options.silenceMs ?? 600;
  if (!Number.isFinite(silenceMs) || silenceMs < 50 || silenceMs > 10_000) {
    throw new RangeError(`silenceMs must be from 50 to 10000 ms, got ${silenceMs}`);
  }
  for (const id of options.agentIds ?? []) {
    if (!AGENT_OR_MODEL_PATTERN.test(id))
      throw new RangeError(`agent id "${id}" must be 1–128 characters of A–Z a–z 0–9 _ - (and . in a model)`);
  }
  const hangupAfterTurns = options.hangupAfterTurns;
  if (
    hangupAfterTurns !== undefined &&
    (!Number.isInteger(hangupAfterTurns) || hangupAfterTurns < 1 || hangupAfterTurns > MAX_HANGUP_AFTER_TURNS)
  ) {
    throw new RangeError(
      `hangupAfterTurns must be an integer from 1 to ${MAX_HANGUP_AFTER_TURNS}, got ${hangupAfterTurns}`,
    );
  }
  const perProtocol = protocolSettings(options);
  if (options.apiKeys && options.apiKeys.length === 0)
    throw new RangeError('apiKeys is empty: no key could ever be accepted');
  const log = makeLogger(options.log ?? true);
  const agentIds = options.agentIds ? new Set(options.agentIds) : undefined;

  const sessions = new Set<AgentSession>();
  const ctx: SessionContext = {
    ticker: createTicker(20, (error) => log(`voicewire-agent: pacing error: ${errorText(error)}`)),
    conversations: new ConversationStore(REMEMBERED_CONVERSATIONS),
    liveSessions: new Set(),
    silenceMs,
    greeting: options.greeting ?? DEFAULT_GREETING,
    maxConnections,
    hangupAfterTurns,
    credentials: new Credentials(options.apiKeys, options.allowAnonymous ?? false),
    servesAgent: (agentId) => agentIds === undefined || agentIds.has(agentId),
    ...perProtocol,
    log,
  };

  const dialectOf = new WeakMap<IncomingMessage, Dialect>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
    // Echo a subprotocol the client offered (browsers and ws fail the handshake otherwise), the
    // one its dialect picks: never one that carries a key.
    handleProtocols: (protocols, request) => dialectOf.get(request)?.selectProtocol([...protocols]) ?? false,
  });

  const ownServer = options.server === undefined;
  const server: http.Server | https.Server = options.server ?? http.createServer();
  let actualPort = 0;
  let url = '';
  let origin = '';
  const corsHeaders = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
  const httpContext: HttpContext = {
    ctx,
    get origin() {
      return origin;
    },
    headers: corsHeaders,
  };

  function onRequest(request: IncomingMessage, response: ServerResponse): void {
    const path = safePath(request.url);
    const headers = corsHeaders;
    if (request.method === 'OPTIONS') {
      response
        .writeHead(204, {
          ...headers,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, xi-api-key, x-goog-api-key',
        })
        .end();
      return;
    }
    try {
      for (const dialect of DIALECTS) if (dialect.handleHttp?.(request, response, httpContext)) return;
    } catch (error) {
      log(`voicewire-agent: HTTP ${request.method} ${path} failed: ${errorText(error)}`);
      if (!response.headersSent) response.writeHead(500, headers);
      response.end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, allow: 'GET, OPTIONS' }).end();
      return;
    }
    if (path === '/health') {
      const body = JSON.stringify({ ok: true, sessions: ctx.liveSessions.size, url });
      response.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(body);
      return;
    }
    if (path === '/') {
      const body = [
        'voicewire local agent',
        `PlayAI: connect a WebSocket to ${url}/<agentId> (or PlayAI's SDK path, ${origin}/v1/agents/<agentId>/start-conversation) and send {"type":"setup","apiKey":"..."} first.`,
        `OpenAI Realtime: ${origin}/v1/realtime?model=<model> (Authorization: Bearer <key>, or the subprotocols realtime and openai-insecure-api-key.<key>).`,
        `ElevenLabs Agents: ${origin}/v1/convai/conversation?agent_id=<agentId> (subprotocol convai).`,
        `Gemini Live: ${origin}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=<key> (or point @google/genai's httpOptions.baseUrl at http://${origin.slice(5)}).`,
        `Deepgram Voice Agent: ${origin}/v1/agent/converse (Authorization: Token <key>, or the subprotocols token, <key>).`,
        `Hume EVI: ${origin}/v0/evi/chat?api_key=<key>.`,
        '',
      ].join('\n');
      response.writeHead(200, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(body);
      return;
    }
    response.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const parsed = parseRequestUrl(request.url);
    let dialect: Dialect | undefined;
    let match: { agentId?: string } | undefined;
    for (const candidate of DIALECTS) {
      match = candidate.matches(parsed.pathname);
      if (match) {
        dialect = candidate;
        break;
      }
    }
    if (!dialect || !match) {
      // On a shared server, other paths belong to someone else.
      if (ownServer) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      return;
    }
    const chosen = dialect;
    const agentId = match.agentId;
    dialectOf.set(request, chosen);
    // No Origin check: the demo page and other sites connect cross-origin, as they may to the real services.
    wss.handleUpgrade(request, socket, head, (ws) => {
      const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
      const offered = (request.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const session = new AgentSession(
        ws,
        ctx,
        {
          agentId,
          query: parseSessionQuery(parsed.searchParams),
          params: parsed.searchParams,
          headers: request.headers,
          protocols: offered,
          remote,
          path: parsed.pathname,
        },
        chosen,
      );
      sessions.add(session);
      session.onClosed = () => sessions.delete(session);
    });
  }

  if (ownServer) server.on('request', onRequest);
  server.on('upgrade', onUpgrade);

  if (ownServer) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } else if (!server.listening) {
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  }
  runningAgents++;
  // Load the synthesiser and render the stock phrases now, so the first session does not wait.
  void prepareSpeech();
  if (ctx.greeting.trim() !== '') warmSpeech(ctx.greeting.trim(), WARM_RATE_HZ);
  warmSpeech(REPLY_TEXT, WARM_RATE_HZ);
  const address = server.address() as AddressInfo;
  actualPort = address.port;
  origin = `ws://${urlHost(ownServer ? host : address.address)}:${actualPort}`;
  url = `${origin}${TALK_PATH}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    origin,
    port: actualPort,
    close() {
      closing ??= (async () => {
        server.off('upgrade', onUpgrade);
        if (ownServer) server.off('request', onRequest);
        const closed = [...sessions].map(
          (session) =>
            new Promise<void>((resolve) => {
              const previous = session.onClosed;
              session.onClosed = () => {
                previous?.();
                resolve();
              };
              session.shutdown(1001, 'local agent shutting down');
            }),
        );
        // Sessions that do not finish their closing handshake in time are cut.
        const cut = setTimeout(() => {
          for (const session of sessions) session.terminate();
        }, 1_000);
        await Promise.all(closed);
        clearTimeout(cut);
        ctx.ticker.clear();
        wss.close();
        if (--runningAgents === 0) closeSpeech();
        if (ownServer) {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            (server as http.Server).closeAllConnections?.();
          });
        }
      })();
      return closing;
    },
  };
}

function makeLogger(option: boolean | ((line: string) => void)): (line: string) => void {
  if (typeof option === 'function') return option;
  return option ? (line) => console.log(line) : () => {};
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function safePath(url: string | undefined): string {
  try {
    return parseRequestUrl(url).pathname;
  } catch {
    return '/';
  }
}

/**
 * A request's path and query. Leading slashes are collapsed first: `@google/genai` joins its base
 * URL's `/` and its path's `/` (`ws://host:port//ws/google.ai…`), and `//x` alone would parse as
 * a host.
 */
function parseRequestUrl(url: string | undefined): URL {
  return new URL((url ?? '/').replace(/^\/{2,}/, '/'), 'http://localhost');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
