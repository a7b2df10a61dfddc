/**
 * Opening an ElevenLabs Agents connection: the agent (`?agent_id=`), the credential, the audio
 * formats, the per-call query and the connection limit. Credentials, any one of:
 *
 * - none, for a public agent (the agent runs with `allowAnonymous`);
 * - the `xi-api-key` header (server-side clients);
 * - a signed URL's `conversation_signature` query parameter (or `token`), minted by
 *   `GET /v1/convai/conversation/get-signed-url` from an API key, valid 15 minutes for its agent;
 * - the `bearer.<token>` subprotocol the SDK sends for its `authorization` option.
 *
 * A refusal is a close with a reason: the SDK takes the close reason as the error's message, and
 * a first message other than `conversation_initiation_metadata` only makes it warn.
 */
import {
  ELEVENLABS_FORMATS,
  type ElevenLabsFormat,
  isValidAgentId,
  type SessionQuery,
} from '../../context.ts';
import type { DialectHost } from '../../dialect.ts';

export const BEARER_PROTOCOL_PREFIX = 'bearer.';

export type OpenedConnection =
  | {
      ok: true;
      agentId: string;
      inputFormat: ElevenLabsFormat;
      outputFormat: ElevenLabsFormat;
      query: SessionQuery;
      anonymous: boolean;
    }
  | { ok: false; closeCode: number; reason: string };

export function presentedCredential(host: DialectHost): string | undefined {
  const { headers, params, protocols } = host.init;
  const header = headers['xi-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const signature = params.get('conversation_signature') ?? params.get('token');
  if (signature !== null && signature !== '') return signature;
  const bearer = protocols.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  return bearer?.slice(BEARER_PROTOCOL_PREFIX.length);
}

export function openConnection(host: DialectHost): OpenedConnection {
  const { ctx, init } = host;
  const agentId = init.params.get('agent_id') ?? '';
  if (agentId === '')
    return refuse('Missing agent_id: connect to /v1/convai/conversation?agent_id=<agentId>.');
  if (!isValidAgentId(agentId) || !ctx.servesAgent(agentId))
    return refuse(`Agent "${clip(agentId)}" not found.`);
  const credential = host.checkCredential(presentedCredential(host));
  if (!credential.ok) {
    return refuse(
      credential.reason === 'missing'
        ? 'Authentication required: pass xi-api-key or connect with a signed URL.'
        : credential.reason === 'expired'
          ? 'This signed URL has expired.'
          : 'Invalid API key or signature.',
    );
  }
  if (!credential.allows(agentId)) return refuse(`This credential does not open agent "${clip(agentId)}".`);
  if (!init.query.ok) return refuse(`Invalid query: ${init.query.error}.`);
  const inputFormat = readFormat(init.params.get('user_input_audio_format'), ctx.elevenlabs.inputFormat);
  const outputFormat = readFormat(init.params.get('agent_output_audio_format'), ctx.elevenlabs.outputFormat);
  if (inputFormat === undefined || outputFormat === undefined) {
    return refuse(`Invalid query: audio formats must be one of ${ELEVENLABS_FORMATS.join(', ')}.`);
  }
  if (host.atCapacity()) {
    return {
      ok: false,
      closeCode: 1013,
      reason: `Too many conversations: this local agent allows ${ctx.maxConnections}.`,
    };
  }
  return {
    ok: true,
    agentId,
    inputFormat,
    outputFormat,
    query: init.query.value,
    anonymous: credential.anonymous,
  };
}

function readFormat(value: string | null, fallback: ElevenLabsFormat): ElevenLabsFormat | undefined {
  if (value === null) return fallback;
  return (ELEVENLABS_FORMATS as readonly string[]).includes(value) ? (value as ElevenLabsFormat) : undefined;
}

function refuse(reason: string): OpenedConnection {
  return { ok: false, closeCode: 1008, reason };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
