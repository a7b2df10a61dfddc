/**
 * ElevenLabs Agents (Conversational AI) on the local agent:
 * `ws://HOST:PORT/v1/convai/conversation?agent_id=…` (subprotocol `convai`), and
 * `GET /v1/convai/conversation/get-signed-url?agent_id=…`, which mints the signed URLs browsers
 * connect to private agents with. See docs/providers.md, "ElevenLabs Agents".
 */

import { isValidAgentId } from '../../context.ts';
import type { Dialect } from '../../dialect.ts';
import { ElevenLabsConnection } from './ElevenLabsConnection.ts';
import { BEARER_PROTOCOL_PREFIX } from './handshake.ts';

const CONVERSATION_PATH = /^\/v1\/convai\/conversation\/?$/;
const SIGNED_URL_PATH = '/v1/convai/conversation/get-signed-url';
/** A signed URL opens a conversation for this long, as the service's do. */
const SIGNED_URL_TTL_MS = 15 * 60_000;
/** The agent's own per-call options a signed URL carries over from the request that minted it. */
const CARRIED_PARAMS = ['hangupAfterTurns', 'fault', 'user_input_audio_format', 'agent_output_audio_format'];

export const elevenlabsDialect: Dialect = {
  name: 'elevenlabs',
  matches: (pathname) => (CONVERSATION_PATH.test(pathname) ? {} : undefined),
  selectProtocol(offered) {
    if (offered.includes('convai')) return 'convai';
    return offered.find((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
  },
  connect: (host) => new ElevenLabsConnection(host),
  handleHttp(request, response, agent) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) =>
      response
        .writeHead(status, { ...agent.headers, 'content-type': 'application/json' })
        .end(JSON.stringify(body));
    if (url.pathname === SIGNED_URL_PATH) {
      // `GET …/get-signed-url?agent_id=X` with `xi-api-key`: `{ signed_url }`, as the service answers.
      if (request.method !== 'GET') {
        response.writeHead(405, { ...agent.headers, allow: 'GET, OPTIONS' }).end();
        return true;
      }
      const agentId = url.searchParams.get('agent_id') ?? '';
      const header = request.headers['xi-api-key'];
      const checked = agent.ctx.credentials.check(typeof header === 'string' ? header : undefined);
      if (!checked.ok || checked.anonymous) {
        json(401, {
          detail: { status: 'invalid_api_key', message: 'A valid xi-api-key header is required.' },
        });
        return true;
      }
      if (!isValidAgentId(agentId) || !agent.ctx.servesAgent(agentId) || !checked.allows(agentId)) {
        json(404, {
          detail: { status: 'agent_not_found', message: `Agent "${agentId.slice(0, 40)}" not found.` },
        });
        return true;
      }
      const { token } = agent.ctx.credentials.mint(checked, { ttlMs: SIGNED_URL_TTL_MS, agentId });
      const signed = new URL(`${agent.origin}/v1/convai/conversation`);
      signed.searchParams.set('agent_id', agentId);
      signed.searchParams.set('conversation_signature', token);
      for (const name of CARRIED_PARAMS) {
        for (const value of url.searchParams.getAll(name)) signed.searchParams.append(name, value);
      }
      json(200, { signed_url: signed.toString() });
      return true;
    }
    if (!CONVERSATION_PATH.test(url.pathname)) return false;
    response
      .writeHead(426, { ...agent.headers, 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
      .end(
        `This is a WebSocket endpoint: connect to ${agent.origin}/v1/convai/conversation?agent_id=<agentId>.\n`,
      );
    return true;
  },
};
