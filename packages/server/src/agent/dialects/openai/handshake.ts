/**
 * Opening an OpenAI Realtime connection: the credential (an `Authorization: Bearer` header, as
 * Node clients send it, or the `openai-insecure-api-key.<key>` subprotocol browsers send, either
 * an API key or an `ek_…` ephemeral key minted by `POST /v1/realtime/client_secrets`), the
 * `model` (OpenAI's stand-in for an agent id), the per-call query, and the connection limit.
 * A refusal is an `error` event and a close, as the service answers a bad key.
 */
import type { SessionQuery } from '../../context.ts';
import type { DialectHost } from '../../dialect.ts';

/** Browsers cannot set headers on a WebSocket: the key rides in a subprotocol. */
export const KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';
/** Model names: an agent id's characters, and dots (`gpt-realtime-2.1`). */
const MODEL_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export type OpenedConnection =
  | { ok: true; model: string; greeting: 'on-request' | 'auto'; query: SessionQuery; anonymous: boolean }
  | { ok: false; type: string; code: string; message: string; param: string | null; closeCode: number };

/** The credential a client presented: the Bearer header first, then the subprotocol. */
export function presentedKey(host: DialectHost): string | undefined {
  const header = host.init.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match) return match[1]!.trim();
  }
  const protocol = host.init.protocols.find((p) => p.startsWith(KEY_PROTOCOL_PREFIX));
  return protocol?.slice(KEY_PROTOCOL_PREFIX.length);
}

/** Check everything the connection brought, in the service's order: key, model, options, limit. */
export function openConnection(host: DialectHost): OpenedConnection {
  const { ctx, init } = host;
  const credential = host.checkCredential(presentedKey(host));
  if (!credential.ok) {
    return credential.reason === 'missing'
      ? refuse(
          'invalid_request_error',
          'missing_api_key',
          "You didn't provide an API key: send it as 'Authorization: Bearer <key>' or in the subprotocol 'openai-insecure-api-key.<key>'.",
        )
      : refuse(
          'invalid_request_error',
          'invalid_api_key',
          credential.reason === 'expired'
            ? 'This ephemeral key has expired: mint a new one with POST /v1/realtime/client_secrets.'
            : 'Incorrect API key provided: this key is not accepted here.',
        );
  }
  const model = init.params.get('model') ?? '';
  if (model === '') {
    return refuse(
      'invalid_request_error',
      'missing_model',
      "Missing required parameter: 'model' (connect to /v1/realtime?model=<model>).",
      'model',
    );
  }
  if (!MODEL_PATTERN.test(model) || !ctx.servesAgent(model)) {
    return refuse(
      'invalid_request_error',
      'model_not_found',
      `The model '${clip(model)}' does not exist on this local agent.`,
      'model',
    );
  }
  if (!credential.allows(model)) {
    return refuse(
      'invalid_request_error',
      'model_not_allowed',
      `This key does not open the model '${clip(model)}'.`,
      'model',
    );
  }
  if (!init.query.ok)
    return refuse('invalid_request_error', 'invalid_value', `Invalid query: ${init.query.error}.`, null);
  const greeting = init.params.get('greeting') ?? ctx.openaiGreeting;
  if (greeting !== 'on-request' && greeting !== 'auto') {
    return refuse(
      'invalid_request_error',
      'invalid_value',
      `Invalid query: greeting must be "on-request" or "auto", got "${clip(greeting)}".`,
      'greeting',
    );
  }
  if (host.atCapacity()) {
    const message = `This local agent allows ${ctx.maxConnections} conversations at once; try again later.`;
    return refuse('server_error', 'session_limit_reached', message, null, 1013);
  }
  return { ok: true, model, greeting, query: init.query.value, anonymous: credential.anonymous };
}

function refuse(
  type: string,
  code: string,
  message: string,
  param: string | null = null,
  closeCode = 1008,
): OpenedConnection {
  return { ok: false, type, code, message, param, closeCode };
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
