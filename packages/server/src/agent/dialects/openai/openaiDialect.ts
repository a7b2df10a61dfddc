/**
 * OpenAI Realtime (GA) on the local agent: `ws://HOST:PORT/v1/realtime?model=…`, and
 * `POST /v1/realtime/client_secrets`, which mints the `ek_…` ephemeral keys browsers connect with.
 * Audio both ways is base64 in JSON events: PCM16 at 24 kHz (`audio/pcm`), or G.711 μ-law / A-law
 * at 8 kHz (`audio/pcmu`, `audio/pcma`). See docs/providers.md, "OpenAI Realtime".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dialect, HttpContext } from '../../dialect.ts';
import { readBody } from '../../httpBody.ts';
import { KEY_PROTOCOL_PREFIX } from './handshake.ts';
import { OpenAIConnection } from './OpenAIConnection.ts';
import { applySessionUpdate, defaultSessionConfig, sessionObject } from './sessionConfig.ts';

const REALTIME_PATH = /^\/v1\/realtime\/?$/;
const CLIENT_SECRETS_PATH = '/v1/realtime/client_secrets';
/** An ephemeral key lives this long unless the request says otherwise (the service's default). */
const DEFAULT_EPHEMERAL_TTL_S = 600;
const MIN_EPHEMERAL_TTL_S = 10;
const MAX_EPHEMERAL_TTL_S = 7_200;
/** A client-secrets request body is a small JSON object. */
const MAX_BODY_BYTES = 64 * 1024;

export const openaiDialect: Dialect = {
  name: 'openai',
  matches: (pathname) => (REALTIME_PATH.test(pathname) ? {} : undefined),
  selectProtocol(offered) {
    if (offered.includes('realtime')) return 'realtime';
    // Never echo the key.
    return offered.find((p) => !p.startsWith(KEY_PROTOCOL_PREFIX));
  },
  connect: (host) => new OpenAIConnection(host),
  handleHttp(request, response, agent) {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === CLIENT_SECRETS_PATH) {
      mintClientSecret(request, response, agent);
      return true;
    }
    if (!REALTIME_PATH.test(path)) return false;
    response
      .writeHead(426, { ...agent.headers, 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
      .end(`This is a WebSocket endpoint: connect to ${agent.origin}/v1/realtime?model=<model>.\n`);
    return true;
  },
};

/**
 * `POST /v1/realtime/client_secrets` with `Authorization: Bearer <key>`: answers
 * `{ value: 'ek_…', expires_at, session }`, as the service does. The key minted carries the
 * rights of the key that asked for it, for `expires_after.seconds` (10–7200, default 600).
 */
function mintClientSecret(request: IncomingMessage, response: ServerResponse, agent: HttpContext): void {
  const json = (status: number, body: unknown) =>
    response
      .writeHead(status, { ...agent.headers, 'content-type': 'application/json' })
      .end(JSON.stringify(body));
  const fail = (status: number, code: string, message: string, param: string | null = null) =>
    json(status, { error: { message, type: 'invalid_request_error', param, code } });
  if (request.method !== 'POST') {
    response.writeHead(405, { ...agent.headers, allow: 'POST, OPTIONS' }).end();
    return;
  }
  const header = request.headers.authorization;
  const key = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]?.trim() : undefined;
  const checked = agent.ctx.credentials.check(key);
  if (!checked.ok || key?.startsWith('ek_')) {
    fail(
      401,
      'invalid_api_key',
      'Incorrect API key provided: minting an ephemeral key needs an API key of this agent.',
    );
    return;
  }
  readBody(request, MAX_BODY_BYTES).then(
    (body) => {
      let parsed: Record<string, unknown> = {};
      if (body.trim() !== '') {
        try {
          const value = JSON.parse(body) as unknown;
          if (typeof value !== 'object' || value === null || Array.isArray(value))
            throw new Error('not an object');
          parsed = value as Record<string, unknown>;
        } catch {
          fail(400, 'invalid_json', 'We could not parse the JSON body of your request.');
          return;
        }
      }
      const expiresAfter = parsed.expires_after as Record<string, unknown> | undefined;
      const seconds = expiresAfter?.seconds ?? DEFAULT_EPHEMERAL_TTL_S;
      if (
        typeof seconds !== 'number' ||
        !Number.isInteger(seconds) ||
        seconds < MIN_EPHEMERAL_TTL_S ||
        seconds > MAX_EPHEMERAL_TTL_S
      ) {
        fail(
          400,
          'invalid_value',
          `expires_after.seconds must be a whole number from ${MIN_EPHEMERAL_TTL_S} to ${MAX_EPHEMERAL_TTL_S}.`,
          'expires_after.seconds',
        );
        return;
      }
      // The session asked for is checked and echoed; the client's own session.update sets it on the socket.
      const requested = (parsed.session ?? {}) as Record<string, unknown>;
      const model = typeof requested.model === 'string' ? requested.model : 'gpt-realtime';
      const session = applySessionUpdate(
        defaultSessionConfig('sess_minted', model, agent.ctx.silenceMs),
        requested,
      );
      if (!session.ok) {
        fail(400, 'invalid_value', session.message, session.param);
        return;
      }
      const { token, expiresAt } = agent.ctx.credentials.mint(checked, {
        ttlMs: seconds * 1000,
        prefix: 'ek_',
      });
      json(200, {
        value: token,
        expires_at: Math.floor(expiresAt / 1000),
        session: sessionObject({ ...session.config, expiresAt: Math.floor(expiresAt / 1000) }),
      });
    },
    () => fail(413, 'invalid_request', `The request body must be under ${MAX_BODY_BYTES} bytes.`),
  );
}
