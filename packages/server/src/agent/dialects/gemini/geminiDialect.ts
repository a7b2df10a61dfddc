/**
 * Gemini Live on the local agent:
 * `ws://HOST:PORT/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=…`
 * (also under `v1beta` and `v1alpha`, and the `…BidiGenerateContentConstrained?access_token=…`
 * endpoint ephemeral tokens open), and `POST /v1alpha/auth_tokens`, which mints those tokens as
 * `ai.authTokens.create()` asks. `@google/genai` builds its socket URL from
 * `httpOptions.baseUrl`; see docs/providers.md, "Gemini Live".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dialect, HttpContext } from '../../dialect.ts';
import { readBody, sendJson, upgradeRequired } from '../../httpBody.ts';
import { GeminiConnection } from './GeminiConnection.ts';
import { LIVE_PATH } from './handshake.ts';
import { isObject } from './setup.ts';

const AUTH_TOKENS_PATH = /^\/(v1|v1beta|v1alpha)\/auth_tokens\/?$/;
const TOKEN_PREFIX = 'auth_tokens/';
/** The service's defaults: a minute to open a session, half an hour of session, one use. */
const DEFAULT_NEW_SESSION_MS = 60_000;
const DEFAULT_EXPIRE_MS = 30 * 60_000;
const DEFAULT_USES = 1;
/** Both times must be less than 20 hours away. */
const MAX_AHEAD_MS = 20 * 3_600_000;
const MAX_BODY_BYTES = 64 * 1024;

export const geminiDialect: Dialect = {
  name: 'gemini',
  matches: (pathname) => (LIVE_PATH.test(pathname) ? {} : undefined),
  // Gemini's clients offer no subprotocol (its credentials travel in the query).
  selectProtocol: (offered) => offered[0],
  connect: (host) => new GeminiConnection(host),
  handleHttp(request, response, agent) {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (AUTH_TOKENS_PATH.test(path)) {
      mintAuthToken(request, response, agent);
      return true;
    }
    if (!LIVE_PATH.test(path)) return false;
    upgradeRequired(
      response,
      agent,
      `${agent.origin}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=<key>`,
    );
    return true;
  },
};

/**
 * `POST /{v1alpha|v1beta|v1}/auth_tokens` with `x-goog-api-key` (or `?key=`): an ephemeral token
 * `{ name: 'auth_tokens/…', uses, expireTime, newSessionExpireTime }`, as the service answers
 * `ai.authTokens.create()`. It opens `uses` new sessions (0: any number; resuming one does not
 * count) until `newSessionExpireTime`, and those sessions end at `expireTime`. A
 * `bidiGenerateContentSetup.model` binds it to that model.
 */
function mintAuthToken(request: IncomingMessage, response: ServerResponse, agent: HttpContext): void {
  const fail = (status: number, statusText: string, message: string) =>
    sendJson(response, agent, status, { error: { code: status, message, status: statusText } });
  if (request.method !== 'POST') {
    response.writeHead(405, { ...agent.headers, allow: 'POST, OPTIONS' }).end();
    return;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  const header = request.headers['x-goog-api-key'];
  const key = typeof header === 'string' ? header : (url.searchParams.get('key') ?? undefined);
  const checked = agent.ctx.credentials.check(key);
  if (!checked.ok || checked.anonymous || key?.startsWith(TOKEN_PREFIX)) {
    if (key === undefined || key === '')
      fail(403, 'PERMISSION_DENIED', 'The request is missing a valid API key.');
    else fail(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
    return;
  }
  readBody(request, MAX_BODY_BYTES).then(
    (body) => {
      let parsed: Record<string, unknown> = {};
      if (body.trim() !== '') {
        try {
          const value = JSON.parse(body) as unknown;
          if (!isObject(value)) throw new Error('not an object');
          parsed = value;
        } catch {
          fail(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received: the body must be one JSON object.');
          return;
        }
      }
      const now = Date.now();
      const time = (field: string, fallbackMs: number): number | string => {
        const value = parsed[field];
        if (value === undefined || value === null) return now + fallbackMs;
        const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(at)) return `${field} must be a timestamp such as "2030-01-01T00:00:00Z".`;
        if (at <= now || at > now + MAX_AHEAD_MS) return `${field} must be in the next 20 hours.`;
        return at;
      };
      const newSessionEnds = time('newSessionExpireTime', DEFAULT_NEW_SESSION_MS);
      const sessionEnds = time('expireTime', DEFAULT_EXPIRE_MS);
      if (typeof newSessionEnds === 'string' || typeof sessionEnds === 'string') {
        fail(
          400,
          'INVALID_ARGUMENT',
          String(typeof newSessionEnds === 'string' ? newSessionEnds : sessionEnds),
        );
        return;
      }
      const uses = parsed.uses ?? DEFAULT_USES;
      if (typeof uses !== 'number' || !Number.isInteger(uses) || uses < 0) {
        fail(400, 'INVALID_ARGUMENT', 'uses must be a whole number (0: no limit).');
        return;
      }
      const setup = parsed.bidiGenerateContentSetup;
      const rawModel = isObject(setup) && typeof setup.model === 'string' ? setup.model : undefined;
      const model = rawModel?.replace(/^models\//, '');
      if (model !== undefined && (!agent.ctx.servesAgent(model) || !checked.allows(model))) {
        fail(404, 'NOT_FOUND', `models/${model.slice(0, 60)} is not found or not open to this key.`);
        return;
      }
      const { token } = agent.ctx.credentials.mint(checked, {
        prefix: TOKEN_PREFIX,
        ttlMs: Math.min(newSessionEnds, sessionEnds) - now,
        ...(model !== undefined ? { agentId: model } : {}),
        ...(uses > 0 ? { uses } : {}),
        sessionEndsAt: sessionEnds,
      });
      sendJson(response, agent, 200, {
        name: token,
        uses,
        expireTime: new Date(sessionEnds).toISOString(),
        newSessionExpireTime: new Date(newSessionEnds).toISOString(),
        ...(isObject(setup) ? { bidiGenerateContentSetup: setup } : {}),
      });
    },
    () => fail(413, 'INVALID_ARGUMENT', `The request body must be under ${MAX_BODY_BYTES} bytes.`),
  );
}
