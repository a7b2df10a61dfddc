/** The talk endpoint of PlayAI's hosted agents. */
export const DEFAULT_TALK_URL = 'wss://api.play.ai/v1/talk';

/**
 * `<base>/<agentId>[?token=…]`. Trailing slashes on the base are dropped so `ws://host/v1/talk/`
 * and `ws://host/v1/talk` open the same socket; a base that already has a query string keeps it
 * (the agent id goes into the path, the token joins the query).
 */
export function buildSocketUrl(agentId: string, url: string = DEFAULT_TALK_URL, token?: string): string {
  const queryAt = url.search(/[?#]/);
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const rest = queryAt === -1 ? '' : url.slice(queryAt);
  const hashAt = rest.indexOf('#');
  let query = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : rest.slice(hashAt);
  if (token !== undefined && token !== '') {
    const param = `token=${encodeURIComponent(token)}`;
    query = query === '' || query === '?' ? `?${param}` : `${query}&${param}`;
  }
  return `${path.replace(/\/+$/, '')}/${encodeURIComponent(agentId)}${query}${hash}`;
}
