/**
 * `url` (an endpoint, as the integrator gave it) with the provider's query added: trailing
 * slashes of the path dropped, a query already there kept (a local agent's options such as
 * `?fault=drop:5000`, a relay's region), a hash dropped. No query at all: no `?`.
 */
export function withQuery(url: string, query: string): string {
  const hashAt = url.indexOf('#');
  const bare = hashAt === -1 ? url : url.slice(0, hashAt);
  const queryAt = bare.indexOf('?');
  const path = (queryAt === -1 ? bare : bare.slice(0, queryAt)).replace(/\/+$/, '');
  const joined = [queryAt === -1 ? '' : bare.slice(queryAt + 1), query]
    .filter((part) => part !== '')
    .join('&');
  return joined === '' ? path : `${path}?${joined}`;
}
