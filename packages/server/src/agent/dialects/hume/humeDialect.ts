/**
 * Hume's Empathic Voice Interface on the local agent: `ws://HOST:PORT/v0/evi/chat` (what
 * `new HumeClient({ environment: 'http://HOST:PORT' })` connects to), and
 * `POST /oauth2-cc/token`, which mints the access tokens browsers connect with. See
 * docs/providers.md, "Hume EVI".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dialect, HttpContext } from '../../dialect.ts';
import { readBody, sendJson, upgradeRequired } from '../../httpBody.ts';
import { HumeConnection } from './HumeConnection.ts';

const CHAT_PATH = /^\/v0\/evi\/chat\/?$/;
const TOKEN_PATH = /^\/oauth2-cc\/token\/?$/;
/** The service's access tokens last half an hour. */
const TOKEN_TTL_S = 1_800;
const MAX_BODY_BYTES = 16 * 1024;

export const humeDialect: Dialect = {
  name: 'hume',
  matches: (pathname) => (CHAT_PATH.test(pathname) ? {} : undefined),
  // Hume's clients offer no subprotocol (credentials travel in the query).
  selectProtocol: (offered) => offered[0],
  connect: (host) => new HumeConnection(host),
  handleHttp(request, response, agent) {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (TOKEN_PATH.test(path)) {
      mintAccessToken(request, response, agent);
      return true;
    }
    if (!CHAT_PATH.test(path)) return false;
    upgradeRequired(response, agent, `${agent.origin}/v0/evi/chat?api_key=<key>`);
    return true;
  },
};

/**
 * `POST /oauth2-cc/token` with `Authorization: Basic base64(<api key>:<secret key>)` and the form
 * body `grant_type=client_credentials`, as `fetchAccessToken` sends it: `{ access_token,
 * token_type: 'Bearer', expires_in, issued_at }`. The API key is checked; the local agent has no
 * secret keys, so any non-empty secret is taken.
 */
function mintAccessToken(request: IncomingMessage, response: ServerResponse, agent: HttpContext): void {
  const fail = (status: number, error: string, description: string) =>
    sendJson(response, agent, status, { error, error_description: description });
  if (request.method !== 'POST') {
    response.writeHead(405, { ...agent.headers, allow: 'POST, OPTIONS' }).end();
    return;
  }
  const header = request.headers.authorization;
  const basic =
    typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim())?.[1] : undefined;
  const pair = basic === undefined ? '' : Buffer.from(basic, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  const key = colon > 0 ? pair.slice(0, colon) : undefined;
  const secret = colon > 0 ? pair.slice(colon + 1) : '';
  const checked = agent.ctx.credentials.check(key);
  if (!checked.ok || checked.anonymous || secret === '') {
    fail(
      401,
      'invalid_client',
      'Send Authorization: Basic base64(<api key>:<secret key>) with a valid API key.',
    );
    return;
  }
  readBody(request, MAX_BODY_BYTES).then(
    (body) => {
      if (new URLSearchParams(body).get('grant_type') !== 'client_credentials') {
        fail(400, 'unsupported_grant_type', 'The body must be grant_type=client_credentials.');
        return;
      }
      const { token, expiresAt } = agent.ctx.credentials.mint(checked, { ttlMs: TOKEN_TTL_S * 1000 });
      sendJson(response, agent, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: TOKEN_TTL_S,
        issued_at: Math.floor((expiresAt - TOKEN_TTL_S * 1000) / 1000),
      });
    },
    () => fail(413, 'invalid_request', `The request body must be under ${MAX_BODY_BYTES} bytes.`),
  );
}
