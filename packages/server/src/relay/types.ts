import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RelayProviderName } from './providers.ts';
import type { RelayStore } from './store.ts';

export type { RelayProviderName } from './providers.ts';

export type RelayLogLevel = 'info' | 'warn' | 'error';

/** One structured log line. It never carries the API key or a token. */
export interface RelayLogEntry {
  level: RelayLogLevel;
  event:
    | 'session-open'
    | 'session-refused'
    | 'session-close'
    | 'session-revoked'
    | 'upstream-error'
    | 'client-error'
    | 'message-too-large'
    | 'audio-rate-exceeded'
    | 'queue-overflow'
    | 'store-error'
    | 'store-recovered'
    | 'drain';
  message: string;
  sessionId?: string;
  agentId?: string;
  [field: string]: unknown;
}

export type RelayLogger = (entry: RelayLogEntry) => void;

export interface RelayOptions {
  /**
   * The vendor whose protocol and credential the relay speaks: `playai` (the key goes into
   * `setup`), `openai` (`Authorization: Bearer`), `elevenlabs` (`xi-api-key`, or a signed URL),
   * `gemini` (`?key=`), `deepgram` (`Authorization: Token`), `hume` (`?api_key=`). @defaultValue 'playai'
   */
  provider?: RelayProviderName;
  /**
   * Where the vendor is. PlayAI: the base talk URL the agent id is appended to (required), e.g. the
   * local agent's `ws://127.0.0.1:8787/v1/talk`. The others: an origin gets the vendor's path
   * (`ws://127.0.0.1:8787` → `ws://127.0.0.1:8787/v1/realtime`), a URL with a path is the endpoint
   * itself. @defaultValue the vendor's own endpoint (`wss://api.openai.com`, …); none for PlayAI
   */
  upstream?: string;
  /** The vendor's API key, carried the vendor's way. Never sent to the browser, never logged. */
  apiKey: string;
  /**
   * ElevenLabs only: instead of sending the key on the socket, fetch a one-conversation signed URL
   * (`GET <httpBase>/v1/convai/conversation/get-signed-url?agent_id=…` with `xi-api-key`) and
   * connect to it. @defaultValue false
   */
  signedUrl?: boolean;
  /** ElevenLabs' REST base for `signedUrl`. @defaultValue `upstream`'s origin as http(s) (`wss://api.elevenlabs.io` → `https://api.elevenlabs.io`) */
  httpBase?: string;
  /** The secret session tokens are signed with (shared with the backend that calls `createSessionToken`). */
  secret: string;
  /**
   * Page origins allowed to connect (`https://example.com`). When set, a request whose `Origin`
   * header is missing or not listed is refused. @defaultValue any origin
   */
  allowedOrigins?: readonly string[];
  /**
   * Where session leases, spent single-use tokens and revoked token ids live: `memoryStore()` for
   * one instance, `redisStore({ url })` for several behind a load balancer. A store the relay
   * cannot reach refuses new sessions (4503) and leaves live ones alone. @defaultValue memoryStore()
   */
  store?: RelayStore;
  /**
   * Concurrent sessions one token may hold, across every instance sharing the store. 2 by default
   * so that a client reconnecting after a network drop is not refused while its dead socket's
   * lease is still held. @defaultValue 2
   */
  maxSessionsPerToken?: number;
  /**
   * Concurrent sessions per target (agent id, model or config id: see `createSessionToken`), across
   * every instance sharing the store. Deepgram sessions, and Gemini sessions on unbound tokens,
   * share one count. @defaultValue no limit
   */
  maxSessionsPerAgent?: number;
  /**
   * A session lease not renewed for this long is released by the store, so the sessions of an
   * instance that died without cleaning up stop counting. Live leases are renewed every third of
   * it, which is also how soon a revocation made on another instance closes sessions here.
   * @defaultValue 10000
   */
  leaseTtlMs?: number;
  /** A session with no message in either direction for this long is closed (1000). @defaultValue 60000 */
  idleTimeoutMs?: number;
  /** Largest client message, in bytes; a larger one gets a 4400 error and a close. @defaultValue 131072 */
  maxMessageBytes?: number;
  /** The path the relay answers on (PlayAI: the agent id follows it). @defaultValue the vendor's path: '/v1/talk', '/v1/realtime', … */
  path?: string;
  /** Milliseconds to wait for the upstream socket to open (and, apart, for a signed URL). @defaultValue 10000 */
  upstreamTimeoutMs?: number;
  /** Serve `GET /metrics` (Prometheus text format) from `handleRequest`. @defaultValue false */
  metrics?: boolean;
  /** `false` for silence, a function to receive structured entries, `true` for one JSON line per entry on the console. @defaultValue true */
  log?: boolean | RelayLogger;
}

export interface RelayCloseOptions {
  /**
   * How long live sessions may go on after the relay stops accepting new ones; those still open
   * then are closed with 1001 (going away), which clients take as "reconnect". @defaultValue 0
   */
  drainMs?: number;
}

export interface Relay {
  /**
   * Handles an HTTP upgrade if its path is the relay's (PlayAI `<path>/<agentId>`, the others
   * `<path>`); returns false and leaves the socket alone otherwise, so other WebSocket endpoints
   * (another provider's relay among them) can share the server.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Answers `GET /health` (200 while accepting sessions, 503 once draining: for load balancers) and,
   * with `metrics: true`, `GET /metrics`; returns false for any other request.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Listens for upgrades on a Node HTTP(S) server (plain `http`, Express's `app.listen()`, Fastify's `app.server`). Returns a detach function. */
  attach(server: Server): () => void;
  /** Number of live sessions on this instance. */
  readonly sessionCount: number;
  /** True from the start of `close()`: new sessions are refused and `/health` answers 503. */
  readonly draining: boolean;
  /** The metrics in the Prometheus text format (whether or not `/metrics` is served). */
  metrics(): string;
  /**
   * Refuses a token id (the `id` given to `createSessionToken`, or `sessionTokenId(token)`) on every
   * instance sharing the store, for `ttlSeconds` (default one day), and closes its live sessions
   * with 4401: here at once, on other instances within a lease renewal.
   */
  revokeToken(tokenId: string, options?: { ttlSeconds?: number }): Promise<void>;
  /**
   * Stops accepting, lets live sessions go on for up to `drainMs`, then closes the rest with 1001
   * (going away: the browser reconnects elsewhere) and releases their leases; resolves when the sockets are closed.
   */
  close(options?: RelayCloseOptions): Promise<void>;
}
