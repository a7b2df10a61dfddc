/**
 * Deepgram's Voice Agent API on the local agent: `ws://HOST:PORT/v1/agent/converse` (point
 * `@deepgram/sdk`'s `environment.agent` here), and `POST /v1/auth/grant`, which grants the
 * short-lived tokens browsers connect with (`bearer`, `<token>`). See docs/providers.md,
 * "Deepgram Voice Agent".
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dialect, HttpContext } from '../../dialect.ts';
import { readBody, sendJson, upgradeRequired } from '../../httpBody.ts';
import { DeepgramConnection } from './DeepgramConnection.ts';
import { selectProtocol } from './handshake.ts';
import { isObject } from './settings.ts';

const CONVERSE_PATH = /^\/v1\/agent\/converse\/?$/;
const GRANT_PATH = /^\/v1\/auth\/grant\/?$/;
/** The service's default and longest grant. */
const DEFAULT_GRANT_S = 30;
const MAX_GRANT_S = 3_600;
const MAX_BODY_BYTES = 16 * 1024;
/**
 * Grants are JSON Web Tokens: an unsigned header (`{"alg":"none","typ":"JWT"}`), a random
 * middle, an empty signature. Clients tell them from other tokens by their three parts.
 */
const JWT_HEADER = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.`;

export const deepgramDialect: Dialect = {
  name: 'deepgram',
  matches: (pathname) => (CONVERSE_PATH.test(pathname) ? {} : undefined),
  selectProtocol,
  connect: (host) => new DeepgramConnection(host),
  handleHttp(request, response, agent) {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (GRANT_PATH.test(path)) {
      grant(request, response, agent);
      return true;
    }
    if (!CONVERSE_PATH.test(path)) return false;
    upgradeRequired(response, agent, `${agent.origin}/v1/agent/converse (Authorization: Token <key>)`);
    return true;
  },
};

/**
 * `POST /v1/auth/grant` with `Authorization: Token <key>`, body `{ ttl_seconds }` (1–3600,
 * default 30): `{ access_token, expires_in }`, as the service answers. The token carries the
 * rights of the key that asked for it.
 */
function grant(request: IncomingMessage, response: ServerResponse, agent: HttpContext): void {
  const fail = (status: number, code: string, message: string) =>
    sendJson(response, agent, status, { err_code: code, err_msg: message, request_id: randomUUID() });
  if (request.method !== 'POST') {
    response.writeHead(405, { ...agent.headers, allow: 'POST, OPTIONS' }).end();
    return;
  }
  const header = request.headers.authorization;
  const key = typeof header === 'string' ? /^Token\s+(.+)$/i.exec(header.trim())?.[1]?.trim() : undefined;
  const checked = agent.ctx.credentials.check(key);
  if (!checked.ok || checked.anonymous) {
    fail(401, 'INVALID_AUTH', 'Invalid credentials: granting a token needs Authorization: Token <key>.');
    return;
  }
  readBody(request, MAX_BODY_BYTES).then(
    (body) => {
      let ttl: unknown = DEFAULT_GRANT_S;
      if (body.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          fail(400, 'BAD_REQUEST', 'The body must be JSON: { "ttl_seconds": 30 }.');
          return;
        }
        if (!isObject(parsed)) {
          fail(400, 'BAD_REQUEST', 'The body must be a JSON object: { "ttl_seconds": 30 }.');
          return;
        }
        ttl = parsed.ttl_seconds ?? DEFAULT_GRANT_S;
      }
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > MAX_GRANT_S) {
        fail(400, 'BAD_REQUEST', `ttl_seconds must be a number from 1 to ${MAX_GRANT_S}.`);
        return;
      }
      const { token } = agent.ctx.credentials.mint(checked, {
        ttlMs: ttl * 1000,
        prefix: JWT_HEADER,
        suffix: '.',
      });
      sendJson(response, agent, 200, { access_token: token, expires_in: ttl });
    },
    () => fail(413, 'BAD_REQUEST', `The request body must be under ${MAX_BODY_BYTES} bytes.`),
  );
}
