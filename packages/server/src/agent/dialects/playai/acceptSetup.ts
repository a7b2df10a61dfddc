/**
 * The setup handshake of PlayAI's talk protocol: the first message of a call, checked in the
 * order the service answers (the message itself, the key and the agent, the URL's options, the
 * input encoding, the conversation to resume, the connection limit). See docs/protocol.md,
 * "setup" and "The local agent".
 */
import { describeErrorCode } from '@voicewire/core';
import { parseClientMessage, type ResolvedSetup, validateSetup } from '@voicewire/core/playai/protocol';
import { canDecodeInput, createInputDecoder } from '../../../audio/index.ts';
import { isValidAgentId, type SessionQuery } from '../../context.ts';
import type { ConversationRecord } from '../../conversationStore.ts';
import type { DialectHost } from '../../dialect.ts';

/** The API page's path: clients open `${TALK_PATH}/<agentId>`. */
export const TALK_PATH = '/v1/talk';

export interface AcceptedSetup {
  ok: true;
  setup: ResolvedSetup;
  query: SessionQuery;
  /** The conversation `continueConversation` resumes; `undefined` for a new one. */
  resumed: ConversationRecord | undefined;
  anonymous: boolean;
}

/** A refused setup: the `error` frame to send, then the close code. */
export interface RefusedSetup {
  ok: false;
  code: number;
  message: string;
  closeCode: number;
}

/** Read and check the first message of a call. Never throws for anything a client sends. */
export function acceptSetup(text: string, host: DialectHost): AcceptedSetup | RefusedSetup {
  const { ctx, init } = host;
  const parsed = parseClientMessage(text);
  if (parsed.kind === 'invalid') {
    // A setup that fails validation comes back as invalid too, with the exact reason.
    const malformedJson = parsed.error.startsWith('malformed JSON');
    return refuse(4400, `Invalid parameters: ${parsed.error}`, malformedJson ? 1007 : 1008);
  }
  if (parsed.kind === 'unknown' || parsed.message.type !== 'setup') {
    const type = parsed.kind === 'unknown' ? parsed.type : parsed.message.type;
    return refuse(
      4400,
      `Invalid parameters: the first message must be a "setup" message, got "${clip(type)}".`,
    );
  }
  const validated = validateSetup(parsed.message);
  if (!validated.ok) return refuse(4400, `Invalid parameters: ${validated.message}`);
  const setup = validated.setup;

  const agentId = init.agentId ?? '';
  const apiKey = setup.apiKey === undefined || setup.apiKey.trim() === '' ? undefined : setup.apiKey;
  const credential = host.checkCredential(apiKey);
  if (!credential.ok) {
    return credential.reason === 'missing'
      ? refuse(1001, `${describeErrorCode(1001).message} The setup message has no apiKey.`)
      : refuse(1003, `${describeErrorCode(1003).message} This API key is not accepted here.`);
  }
  if (!isValidAgentId(agentId) || !ctx.servesAgent(agentId)) {
    return refuse(
      1002,
      agentId === ''
        ? `${describeErrorCode(1002).message} The URL has no agent id: connect to ${TALK_PATH}/<agentId>.`
        : `${describeErrorCode(1002).message} No agent "${clip(agentId)}" here.`,
    );
  }
  if (!credential.allows(agentId)) return refuse(4401, describeErrorCode(4401).message);
  if (!init.query.ok) return refuse(4400, `Invalid parameters: ${init.query.error}`);
  if (!canDecodeInput(setup.inputEncoding)) {
    return refuse(
      4400,
      `Invalid parameters: the local agent cannot decode inputEncoding "${setup.inputEncoding}"; use "linear16", "mulaw" or "media-container" (WAV, WebM/Opus or Ogg/Opus).`,
    );
  }
  let resumed: ConversationRecord | undefined;
  if (setup.continueConversation !== undefined) {
    resumed = ctx.conversations.get(setup.continueConversation);
    if (!resumed || resumed.agentId !== agentId) {
      return refuse(
        4400,
        `Invalid parameters: continueConversation "${clip(setup.continueConversation)}" is not a conversation this agent knows.`,
      );
    }
  }
  if (host.atCapacity()) {
    const info = describeErrorCode(4429);
    return refuse(4429, `${info.message} (this local agent allows ${ctx.maxConnections}).`, 1013);
  }
  try {
    createInputDecoder(setup.inputEncoding, setup.inputSampleRate);
  } catch (error) {
    return refuse(4400, `Invalid parameters: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { ok: true, setup, query: init.query.value, resumed, anonymous: credential.anonymous };
}

function refuse(code: number, message: string, closeCode = 1008): RefusedSetup {
  return { ok: false, code, message, closeCode };
}

export function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
