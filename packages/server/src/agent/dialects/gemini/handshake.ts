/**
 * Opening a Gemini Live connection: which endpoint (`BidiGenerateContent`, or the
 * `…Constrained` one ephemeral tokens use), the credential (`?key=`, the `x-goog-api-key` header
 * Node clients may send, or `?access_token=` on the constrained endpoint), and the per-call query.
 * The service has no error message: a refusal is a close with a code and a reason, which
 * `@google/genai` puts into the error `live.connect()` rejects with.
 */
import type { GeminiGreeting, SessionQuery } from '../../context.ts';
import type { CredentialCheck } from '../../credentials.ts';
import type { DialectHost } from '../../dialect.ts';
import { clip } from './setup.ts';

/**
 * The Live API's socket, under each API version the SDK may be set to (`httpOptions.apiVersion`;
 * `v1` by default, `v1alpha` for ephemeral tokens), both methods.
 */
export const LIVE_PATH =
  /^\/ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)\/?$/;

/** Google's close codes: an invalid argument, a refused policy (key, model), an internal failure. */
export const INVALID_ARGUMENT = 1007;
export const POLICY_VIOLATION = 1008;
export const INTERNAL = 1011;

export type OpenedConnection =
  | {
      ok: true;
      version: string;
      constrained: boolean;
      credential: Extract<CredentialCheck, { ok: true }>;
      greeting: GeminiGreeting;
      query: SessionQuery;
    }
  | { ok: false; closeCode: number; reason: string };

/** The credential presented: `access_token` on the constrained endpoint, otherwise `key` (or the header). */
export function presentedCredential(host: DialectHost, constrained: boolean): string | undefined {
  const { params, headers } = host.init;
  if (constrained) return params.get('access_token') ?? undefined;
  const key = params.get('key');
  if (key !== null) return key;
  const header = headers['x-goog-api-key'];
  return typeof header === 'string' ? header : undefined;
}

export function openConnection(host: DialectHost): OpenedConnection {
  const { ctx, init } = host;
  const match = LIVE_PATH.exec(init.path);
  const version = match?.[1] ?? 'v1';
  const constrained = match?.[2] === 'BidiGenerateContentConstrained';
  const credential = host.checkCredential(presentedCredential(host, constrained));
  if (!credential.ok) {
    switch (credential.reason) {
      case 'missing':
        return refuse(
          POLICY_VIOLATION,
          constrained
            ? 'The request is missing an access_token (an ephemeral auth_tokens/… token).'
            : 'The request is missing a valid API key.',
        );
      case 'expired':
        return refuse(POLICY_VIOLATION, 'The ephemeral token has expired: create a new one.');
      case 'used':
        return refuse(POLICY_VIOLATION, 'The ephemeral token has no uses left: create a new one.');
      default:
        return refuse(INVALID_ARGUMENT, 'API key not valid. Please pass a valid API key.');
    }
  }
  if (!init.query.ok) return refuse(INVALID_ARGUMENT, `Invalid query: ${init.query.error}.`);
  const greeting = init.params.get('greeting') ?? ctx.gemini.greeting;
  if (greeting !== 'auto' && greeting !== 'on-request') {
    return refuse(
      INVALID_ARGUMENT,
      `Invalid query: greeting must be "auto" or "on-request", got "${clip(greeting)}".`,
    );
  }
  return { ok: true, version, constrained, credential, greeting, query: init.query.value };
}

function refuse(closeCode: number, reason: string): OpenedConnection {
  return { ok: false, closeCode, reason };
}
