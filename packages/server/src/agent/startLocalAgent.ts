/**
 * The local agent: a protocol-faithful stand-in for the talk service, so the library can be
 * developed, demonstrated and tested without an account. It serves the API page's
 * `ws://HOST:PORT/v1/talk/<agentId>` and the deployed SDK's
 * `ws://HOST:PORT/v1/agents/<agentId>/start-conversation` (the same protocol on both; see
 * docs/protocol.md), and answers plain `GET /` and `GET /health`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describeErrorCode } from '@voicewire/core';
import { WebSocketServer } from 'ws';
import { closeSpeech, prepareSpeech } from '../audio/index.ts';
import { isValidAgentId, MAX_HANGUP_AFTER_TURNS, parseSessionQuery, type SessionContext } from './context.ts';
import { ConversationStore } from './conversationStore.ts';
import { REPLY_TEXT } from './response.ts';
import { AgentSession } from './session.ts';
import { warmSpeech } from './speech.ts';
import { createTicker } from './ticker.ts';

/** An API key that only opens some agents (a key for another agent gets 4401). */
export interface ApiKeyGrant {
  key: string;
  agentIds: readonly string[];
}

export interface LocalAgentOptions {
  /**
   * TCP port; `0` picks a free one (read it back from `port`).
   * @defaultValue 0 (the `voicewire-agent` command defaults to 8787)
   */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * The keys accepted in `setup.apiKey`. When given, only these (a missing key gets 1001, an
   * unknown one 1003, a key granted to other agents 4401); otherwise any non-empty key.
   */
  apiKeys?: ReadonlyArray<string | ApiKeyGrant>;
  /**
   * Accept a setup without `apiKey`, as the service does for public agents (PlayAI's browser SDK
   * sends none). A key that is given is still checked.
   * @defaultValue false (a key is required, as the API page says)
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
   * The agent ids served; any other gets 1002. Otherwise every id of 1–128 characters from
   * `A–Z a–z 0–9 _ -` is an agent.
   */
  agentIds?: readonly string[];
  /**
   * Silence that ends the user's turn, in ms.
   * @defaultValue 600
   */
  silenceMs?: number;
  /** What the agent says first when the setup has no `customGreeting`. An empty string: nothing. */
  greeting?: string;
  /**
   * One line per connection when it closes (who, the setup, how long, how it ended). Keys are never
   * logged. `true` writes to the console; a function receives the lines.
   * @defaultValue true
   */
  log?: boolean | ((line: string) => void);
  /**
   * Serve on an existing HTTP(S) server instead of opening a port: the agent only takes the
   * upgrades for `/v1/talk/…` and `/v1/agents/…/start-conversation` and leaves everything else (and closing the server) to its owner.
   */
  server?: http.Server | https.Server;
}

export interface LocalAgent {
  /** `ws://127.0.0.1:PORT/v1/talk`: clients open `${url}/${agentId}`. */
  readonly url: string;
  readonly port: number;
  /**
   * `ws://127.0.0.1:PORT`: the deployed SDK's path is under it,
   * `${origin}/v1/agents/${agentId}/start-conversation`.
   */
  readonly origin: string;
  /** Close every session and stop listening. */
  close(): Promise<void>;
}

export const DEFAULT_GREETING = "Hi! I'm the voicewire local agent. Say something and I'll answer.";
export const TALK_PATH = '/v1/talk';
/** The deployed SDK's path: `/v1/agents/<agentId>/start-conversation`. */
const AGENTS_PATH = /^\/v1\/agents\/([^/]*)\/start-conversation\/?$/;
const TALK_PATH_PATTERN = /^\/v1\/talk(?:\/([^/]*))?\/?$/;
/** Largest client frame accepted: a second of 48 kHz WAV in base64 is ~130 KB. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/**
 * Any rate will do: the synthesiser caches its native rendering and only resamples per rate, so
 * warming one rate makes every rate quick.
 */
const WARM_RATE_HZ = 24_000;
/** Conversations kept for `continueConversation`. */
const REMEMBERED_CONVERSATIONS = 1000;

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
    if (!isValidAgentId(id))
      throw new RangeError(`agent id "${id}" must be 1–128 characters of A–Z a–z 0–9 _ -`);
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
  const allowAnonymous = options.allowAnonymous ?? false;
  const log = makeLogger(options.log ?? true);
  const grants = (options.apiKeys ?? []).map((entry) =>
    typeof entry === 'string'
      ? { digest: digest(entry), agentIds: undefined }
      : { digest: digest(entry.key), agentIds: new Set(entry.agentIds) },
  );
  if (options.apiKeys && grants.length === 0)
    throw new RangeError('apiKeys is empty: no key could ever be accepted');
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
    authorize(apiKey, agentId) {
      if (apiKey === undefined && !allowAnonymous) {
        return { code: 1001, message: `${describeErrorCode(1001).message} The setup message has no apiKey.` };
      }
      let grant: (typeof grants)[number] | undefined;
      if (apiKey !== undefined && grants.length > 0) {
        const given = digest(apiKey);
        grant = grants.find((g) => timingSafeEqual(g.digest, given));
        if (!grant) {
          return {
            code: 1003,
            message: `${describeErrorCode(1003).message} This API key is not accepted here.`,
          };
        }
      }
      if (!isValidAgentId(agentId) || (agentIds && !agentIds.has(agentId))) {
        return {
          code: 1002,
          message:
            agentId === ''
              ? `${describeErrorCode(1002).message} The URL has no agent id: connect to ${TALK_PATH}/<agentId>.`
              : `${describeErrorCode(1002).message} No agent "${clip(agentId)}" here.`,
        };
      }
      if (grant?.agentIds && !grant.agentIds.has(agentId)) {
        return { code: 4401, message: `${describeErrorCode(4401).message}` };
      }
      return undefined;
    },
    log,
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });

  const ownServer = options.server === undefined;
  const server: http.Server | https.Server = options.server ?? http.createServer();
  let actualPort = 0;
  let url = '';

  function onRequest(request: IncomingMessage, response: ServerResponse): void {
    const path = safePath(request.url);
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { ...headers, 'access-control-allow-methods': 'GET, OPTIONS' }).end();
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
      const body = `voicewire local agent\nConnect a WebSocket to ${url}/<agentId> (or PlayAI's SDK path, ${url.slice(0, -TALK_PATH.length)}/v1/agents/<agentId>/start-conversation) and send {"type":"setup","apiKey":"..."} first.\n`;
      response.writeHead(200, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(body);
      return;
    }
    if (path === TALK_PATH || path.startsWith(`${TALK_PATH}/`) || AGENTS_PATH.test(path)) {
      response
        .writeHead(426, { ...headers, 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
        .end(`This is a WebSocket endpoint: connect with new WebSocket('${url}/<agentId>').\n`);
      return;
    }
    response.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const parsed = new URL(request.url ?? '/', 'http://localhost');
    const match = TALK_PATH_PATTERN.exec(parsed.pathname) ?? AGENTS_PATH.exec(parsed.pathname);
    if (!match) {
      // On a shared server, other paths belong to someone else.
      if (ownServer) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      return;
    }
    let agentId: string | undefined;
    try {
      agentId = match[1] === undefined || match[1] === '' ? undefined : decodeURIComponent(match[1]);
    } catch {
      agentId = '\u0000invalid';
    }
    // No Origin check: the demo page and other sites connect cross-origin, as they may to the real service.
    wss.handleUpgrade(request, socket, head, (ws) => {
      const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
      const session = new AgentSession(ws, ctx, {
        agentId,
        query: parseSessionQuery(parsed.searchParams),
        remote,
        path: parsed.pathname,
      });
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
  url = `ws://${urlHost(ownServer ? host : address.address)}:${actualPort}${TALK_PATH}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    origin: url.slice(0, -TALK_PATH.length),
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

/** Keys are compared by digest: equal lengths for timingSafeEqual, and the key itself never kept. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function safePath(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
