/** The talk endpoint of PlayAI's hosted agents. */
export const DEFAULT_TALK_URL = 'wss://api.play.ai/v1/talk';

/** Where `url` says the agent id goes (see {@link buildSocketUrl}). */
const AGENT_ID_PLACEHOLDER = '{agentId}';

/**
 * The socket URL for `agentId` on the endpoint `url` (docs/protocol.md, "Endpoints"):
 *
 * - a `url` with `{agentId}` in it gets the id there:
 *   `wss://api.play.ai/v1/agents/{agentId}/start-conversation`;
 * - a `url` ending in `/v1/agents` is the base of the deployed SDK's path:
 *   `<url>/<agentId>/start-conversation`;
 * - a `url` ending in `/start-conversation` is already complete and is used as it is;
 * - any other `url` is a base like `/v1/talk`: `<url>/<agentId>`.
 *
 * Trailing slashes on the path are dropped, so `ws://host/v1/talk/` and `ws://host/v1/talk` open
 * the same socket; a query string is kept (the token joins it as `token=…`) and so is a hash.
 */
export function buildSocketUrl(agentId: string, url: string = DEFAULT_TALK_URL, token?: string): string {
  const queryAt = url.search(/[?#]/);
  const path = (queryAt === -1 ? url : url.slice(0, queryAt)).replace(/\/+$/, '');
  const rest = queryAt === -1 ? '' : url.slice(queryAt);
  const hashAt = rest.indexOf('#');
  let query = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : rest.slice(hashAt);
  if (token !== undefined && token !== '') {
    const param = `token=${encodeURIComponent(token)}`;
    query = query === '' || query === '?' ? `?${param}` : `${query}&${param}`;
  }
  const id = encodeURIComponent(agentId);
  let target: string;
  if (path.includes(AGENT_ID_PLACEHOLDER)) target = path.split(AGENT_ID_PLACEHOLDER).join(id);
  else if (/\/v1\/agents$/.test(path)) target = `${path}/${id}/start-conversation`;
  else if (/\/start-conversation$/.test(path)) target = path;
  else target = `${path}/${id}`;
  return `${target}${query}${hash}`;
}
