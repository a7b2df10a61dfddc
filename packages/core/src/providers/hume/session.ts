import { decodeBase64, encodeBase64 } from '../../codec/base64.ts';
import { parseJsonObject } from '../parseJson.ts';
import { relayCloseError } from '../relayClose.ts';
import type {
  CloseDecision,
  ProviderError,
  ProviderEvent,
  ProviderSession,
  ProviderSocket,
  ProviderStartOptions,
} from '../types.ts';
import { withQuery } from '../url.ts';
import { HUME_EVI_URL, type HumeEviOptions } from './options.ts';

const INPUT_RATE_HZ = 16_000;
/** EVI's `audio_output` is a WAV file per chunk, at 48 kHz (its SDK's documentation). */
const OUTPUT_RATE_HZ = 48_000;

/** Hume EVI's session for one call: see humeEvi() in index.ts. */
export function startSession(options: HumeEviOptions, start: ProviderStartOptions): ProviderSession | string {
  const sampleRate =
    start.input.encoding !== 'mulaw' ? (start.input.sampleRate ?? INPUT_RATE_HZ) : INPUT_RATE_HZ;
  const url = start.url ?? HUME_EVI_URL;
  return {
    input: { encoding: 'linear16', sampleRate },
    output: { format: 'wav', sampleRate: OUTPUT_RATE_HZ },
    pushToTalkControl: false,
    transcriptOnInterrupt: 'estimate',
    socket: (credentials, resume) =>
      openSocket(
        options,
        url,
        sampleRate,
        resume ?? start.continueConversation,
        credentials.apiKey,
        credentials.token,
      ),
  };
}

function openSocket(
  options: HumeEviOptions,
  endpoint: string,
  sampleRate: number,
  chatGroup: string | undefined,
  apiKey: string | undefined,
  token: string | undefined,
): ProviderSocket {
  const relay = token !== undefined && /^[\w-]+\.[\w-]+$/.test(token);
  const query = new URLSearchParams();
  if (options.configId) query.set('config_id', options.configId);
  if (chatGroup) query.set('resumed_chat_group_id', chatGroup);
  if (apiKey) query.set('api_key', apiKey);
  if (token) query.set(relay ? 'token' : 'access_token', token);
  let ready = false;
  /** The agent's voice is streaming (an utterance is open). */
  let speaking = false;
  /** Ids (messages and audio) of the reply now playing, and of replies the user cut off. */
  let reply = new Set<string>();
  const dropped = new Set<string>();
  /** The open agent turn (sentences append to it), and the user speaking (interim transcripts). */
  let agentOpen = false;
  let userTalking = false;
  /** The last error the server reported: the cause of a close that follows it. */
  let lastError: ProviderError | undefined;

  const settings: Record<string, unknown> = {
    type: 'session_settings',
    audio: { channels: 1, encoding: 'linear16', sample_rate: sampleRate },
  };
  if (options.systemPrompt !== undefined) settings.system_prompt = options.systemPrompt;
  if (options.voiceId !== undefined) settings.voice_id = options.voiceId;

  return {
    url: withQuery(endpoint, query.toString()),
    opened: () => [JSON.stringify(settings)],
    audioBeforeReady: false,
    audio: (frame) => `{"type":"audio_input","data":"${encodeBase64(frame)}"}`,
    text: (text) => [JSON.stringify({ type: 'user_input', text })],
    // The server hears the barge-in itself and says so (`user_interruption`).
    bargeIn: () => [],
    turnTaking: () => [],
    talkPressed: () => [],
    talkReleased: () => [],
    decode(data) {
      const parsed = parseJsonObject(data, 'server message');
      if (!parsed.ok) return [{ type: 'invalid', message: `Hume EVI: ${parsed.error}` }];
      const message = parsed.value;
      const id = typeof message.id === 'string' ? message.id : undefined;
      switch (parsed.type) {
        case 'chat_metadata': {
          if (ready) return [];
          ready = true;
          const group = message.chat_group_id;
          return [
            typeof group === 'string' && group ? { type: 'ready', conversationId: group } : { type: 'ready' },
          ];
        }
        case 'audio_output': {
          if (id === undefined || dropped.has(id) || typeof message.data !== 'string') return [];
          let bytes: Uint8Array;
          try {
            bytes = decodeBase64(message.data);
          } catch (error) {
            return [
              { type: 'invalid', message: `Hume EVI: audio that is not valid base64 (${String(error)}).` },
            ];
          }
          reply.add(id);
          const out: ProviderEvent[] = speaking ? [] : [{ type: 'agentUtteranceStart' }];
          speaking = true;
          if (bytes.length > 0) out.push({ type: 'agentAudio', data: bytes });
          return out;
        }
        case 'assistant_message': {
          const text = contentOf(message);
          if (text === undefined || (id !== undefined && dropped.has(id))) return [];
          if (id !== undefined) reply.add(id);
          const newTurn = !agentOpen;
          agentOpen = true;
          return [{ type: 'transcript', role: 'agent', text, mode: 'final', newTurn }];
        }
        case 'assistant_end': {
          const out: ProviderEvent[] = speaking ? [{ type: 'agentUtteranceEnd' }] : [];
          speaking = agentOpen = false;
          reply = new Set();
          return out;
        }
        case 'user_interruption':
          for (const cut of reply) dropped.add(cut);
          reply = new Set();
          speaking = agentOpen = false;
          userTalking = true;
          return [{ type: 'userSpeechStart' }, { type: 'interrupted' }];
        case 'user_message': {
          const text = contentOf(message);
          if (text === undefined) return [];
          const out: ProviderEvent[] = [];
          if (message.interim === true) {
            // The user began a turn while the agent is silent (over the agent, `user_interruption` says so).
            if (!userTalking && !speaking) out.push({ type: 'userSpeechStart' });
            userTalking = true;
            out.push({ type: 'transcript', role: 'user', text, mode: 'partial' });
            return out;
          }
          userTalking = agentOpen = false;
          out.push({ type: 'transcript', role: 'user', text, mode: 'final' }, { type: 'userSpeechEnd' });
          return out;
        }
        case 'error': {
          const slug = typeof message.slug === 'string' ? message.slug : message.code;
          const text = `${typeof message.message === 'string' ? message.message : 'Hume EVI reported an error.'}${slug ? ` (${String(slug)})` : ''}`;
          lastError = { kind: 'server-error', message: text, fatal: false };
          return [{ type: 'error', error: lastError, outcome: 'continue' }];
        }
        default:
          return [];
      }
    },
    closed: (code, reason, everConnected) => closeDecision(code, reason, everConnected, ready, lastError),
  };
}

/** `message.content` of a `user_message` or `assistant_message` (a ChatMessage `{ role, content }`). */
function contentOf(message: Record<string, unknown>): string | undefined {
  const chat = message.message;
  const content =
    typeof chat === 'object' && chat !== null ? (chat as { content?: unknown }).content : undefined;
  return typeof content === 'string' ? content : undefined;
}

const NORMAL_CLOSURE = 1000;

/**
 * 1000 is the end (the agent hung up, or the chat timed out); a socket the server closed before
 * `chat_metadata` was refused; a connection lost mid-chat resumes its chat group. An `error` the
 * server sent before closing is the close's cause (already reported): the call's last word if it
 * is not resumed.
 */
function closeDecision(
  code: number | undefined,
  closeReason: string,
  everConnected: boolean,
  ready: boolean,
  lastError: ProviderError | undefined,
): CloseDecision {
  if (code === NORMAL_CLOSURE) return { action: 'end' };
  const reason = closeReason || (lastError?.message ?? '');
  const relay = relayCloseError(code, reason);
  // 1011 (Hume's internal error, or the relay's vendor unreachable) is worth resuming from.
  if (relay !== null && code !== 1011) {
    return everConnected ? { action: 'end', error: relay } : { action: 'fail', error: relay };
  }
  const detail = `close code ${code ?? 'none'}${reason ? `: ${reason}` : ''}`;
  // Refused at the start (a bad key, config or chat group), with the server's word for it.
  if (!everConnected || (!ready && reason !== '')) {
    const message = `Hume EVI refused the chat or could not be reached (${detail}); check the URL, the key or token and the config.`;
    return { action: 'fail', error: relay ?? { kind: 'network', message, fatal: true } };
  }
  if (lastError !== undefined) return { action: 'reconnect', error: lastError, reported: true };
  // The status says it resumes; the message is the call's last word if it does not.
  const message = `The connection to Hume EVI was lost (${detail}).`;
  return { action: 'reconnect', error: { kind: 'network', message, fatal: false } };
}
