/**
 * Opening a Deepgram Voice Agent connection: the credential, as `@deepgram/sdk` sends it (the
 * `Authorization: Token <key>` header in Node, `Bearer <token>` for a granted token; in browsers,
 * which cannot set headers, the subprotocol pairs `token`, `<key>` and `bearer`, `<token>`), and
 * the per-call query. Deepgram's conversations have no agent id; the local agent calls theirs
 * `deepgram`, so `agentIds` and keys granted to agents name it to include them.
 */
import type { SessionQuery } from '../../context.ts';
import type { DialectHost } from '../../dialect.ts';

/** What a Deepgram conversation's agent id is (the protocol names none). */
export const DEEPGRAM_AGENT_ID = 'deepgram';
/** The subprotocols whose next entry is a credential. */
const CREDENTIAL_SCHEMES = ['token', 'bearer'] as const;

export type OpenedConnection =
  | { ok: true; query: SessionQuery; scheme: 'token' | 'bearer' | 'none' }
  | { ok: false; code: string; description: string };

/** The subprotocol to echo: the scheme (`token` / `bearer`), never the credential after it. */
export function selectProtocol(offered: readonly string[]): string | undefined {
  for (const scheme of CREDENTIAL_SCHEMES) if (offered.includes(scheme)) return scheme;
  return offered[0];
}

export function presentedCredential(host: DialectHost): {
  credential: string | undefined;
  scheme: 'token' | 'bearer' | 'none';
} {
  const header = host.init.headers.authorization;
  if (typeof header === 'string') {
    const match = /^(Token|Bearer)\s+(.+)$/i.exec(header.trim());
    if (match) return { credential: match[2]!.trim(), scheme: match[1]!.toLowerCase() as 'token' | 'bearer' };
  }
  const protocols = host.init.protocols;
  for (const scheme of CREDENTIAL_SCHEMES) {
    const at = protocols.indexOf(scheme);
    if (at >= 0 && at + 1 < protocols.length) return { credential: protocols[at + 1], scheme };
  }
  return { credential: undefined, scheme: 'none' };
}

export function openConnection(host: DialectHost): OpenedConnection {
  const { ctx, init } = host;
  const { credential, scheme } = presentedCredential(host);
  const checked = host.checkCredential(credential);
  if (!checked.ok) {
    return refuse(
      'INVALID_AUTH',
      checked.reason === 'missing'
        ? 'Invalid credentials: send Authorization: Token <key> (or the subprotocols token, <key>).'
        : checked.reason === 'expired'
          ? 'Invalid credentials: the token has expired; grant a new one (POST /v1/auth/grant).'
          : 'Invalid credentials: this key is not accepted here.',
    );
  }
  if (!ctx.servesAgent(DEEPGRAM_AGENT_ID) || !checked.allows(DEEPGRAM_AGENT_ID))
    return refuse('INSUFFICIENT_PERMISSIONS', `This key does not open the agent "${DEEPGRAM_AGENT_ID}".`);
  if (!init.query.ok) return refuse('BAD_REQUEST', `Invalid query: ${init.query.error}.`);
  return { ok: true, query: init.query.value, scheme: checked.anonymous ? 'none' : scheme };
}

function refuse(code: string, description: string): OpenedConnection {
  return { ok: false, code, description };
}
