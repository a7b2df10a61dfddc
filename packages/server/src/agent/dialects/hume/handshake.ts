/**
 * Opening a Hume EVI chat: the credential (`?api_key=` or `?access_token=`, as `hume`'s SDK moves
 * its `X-Hume-Api-Key` / `Authorization: Bearer` headers into the query; the headers count too),
 * the configuration (`config_id`, the agent id; `hume` without one), a chat group to resume
 * (`resumed_chat_group_id`), the settings in the query, the per-call options and the connection
 * limit. A refusal is an `error` message, then a close with the reason.
 */
import { isValidAgentId, type SessionQuery } from '../../context.ts';
import type { ConversationRecord } from '../../conversationStore.ts';
import type { DialectHost } from '../../dialect.ts';
import { clip, type HumeSettings, readSettings, settingsFromQuery } from './settings.ts';

/** A chat's agent id when no `config_id` names one: Hume's default configuration. */
export const HUME_DEFAULT_AGENT_ID = 'hume';

export type OpenedChat =
  | {
      ok: true;
      agentId: string;
      resumed: ConversationRecord | undefined;
      settings: HumeSettings;
      verbose: boolean;
      query: SessionQuery;
      anonymous: boolean;
    }
  | { ok: false; closeCode: number; code: string; slug: string; message: string };

export function presentedCredential(host: DialectHost): string | undefined {
  const { params, headers } = host.init;
  const query = params.get('api_key') ?? params.get('access_token');
  if (query !== null && query !== '') return query;
  const key = headers['x-hume-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const bearer =
    typeof headers.authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(headers.authorization) : null;
  return bearer?.[1]?.trim();
}

export function openChat(host: DialectHost): OpenedChat {
  const { ctx, init } = host;
  const checked = host.checkCredential(presentedCredential(host));
  if (!checked.ok) {
    return refuse(
      1008,
      'unauthorized',
      checked.reason === 'missing'
        ? 'Authentication required: pass api_key or access_token in the query.'
        : checked.reason === 'expired'
          ? 'The access token has expired: fetch a new one (POST /oauth2-cc/token).'
          : 'Invalid API key or access token.',
    );
  }
  const agentId = init.params.get('config_id') ?? HUME_DEFAULT_AGENT_ID;
  if (!isValidAgentId(agentId) || !ctx.servesAgent(agentId))
    return refuse(1008, 'config_not_found', `Config "${clip(agentId)}" not found.`);
  if (!checked.allows(agentId))
    return refuse(1008, 'unauthorized', `This credential does not open config "${clip(agentId)}".`);
  if (!init.query.ok) return refuse(1008, 'invalid_query', `Invalid query: ${init.query.error}.`);
  let resumed: ConversationRecord | undefined;
  const group = init.params.get('resumed_chat_group_id');
  if (group !== null && group !== '') {
    resumed = ctx.conversations.get(group);
    if (!resumed || resumed.agentId !== agentId)
      return refuse(1008, 'chat_group_not_found', `Chat group "${clip(group)}" not found.`);
  }
  let settings: HumeSettings = {};
  const fromQuery = settingsFromQuery(init.params);
  if (typeof fromQuery === 'string') return refuse(1008, 'invalid_session_settings', fromQuery);
  if (fromQuery !== undefined) {
    const read = readSettings(fromQuery);
    if (!read.ok) return refuse(1008, 'invalid_session_settings', read.message);
    settings = read.settings;
  }
  if (host.atCapacity()) {
    return refuse(
      1013,
      'too_many_chats',
      `Too many chats: this local agent allows ${ctx.maxConnections} at once.`,
    );
  }
  return {
    ok: true,
    agentId,
    resumed,
    settings,
    verbose: init.params.get('verbose_transcription') === 'true',
    query: init.query.value,
    anonymous: checked.anonymous,
  };
}

function refuse(closeCode: number, slug: string, message: string): OpenedChat {
  return { ok: false, closeCode, code: String(closeCode), slug, message };
}
