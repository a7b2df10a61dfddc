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
  WireInputFormat,
  WireOutputFormat,
} from '../types.ts';
import { withQuery } from '../url.ts';

import { ELEVENLABS_CONVERSATION_URL, type ElevenLabsOptions } from './options.ts';

/** What an agent uses unless its settings say otherwise; the server announces the real ones. */
const DEFAULT_INPUT: WireInputFormat = { encoding: 'linear16', sampleRate: 16_000 };
const DEFAULT_OUTPUT: WireOutputFormat = { format: 'pcm16', sampleRate: 16_000 };

/** ElevenLabs' session for one call: see elevenlabs() in index.ts. */
export function startSession(
  options: ElevenLabsOptions,
  start: ProviderStartOptions,
): ProviderSession | string {
  if (typeof options?.agentId !== 'string' || options.agentId.trim() === '') {
    return 'elevenlabs: the "agentId" option is required.';
  }
  const url = start.url ?? ELEVENLABS_CONVERSATION_URL;
  return {
    input: DEFAULT_INPUT,
    output: DEFAULT_OUTPUT,
    pushToTalkControl: false,
    transcriptOnInterrupt: 'estimate',
    socket: (credentials) => openSocket(options, url, credentials.token),
  };
}

function openSocket(options: ElevenLabsOptions, endpoint: string, token: string | undefined): ProviderSocket {
  const signedUrl = token !== undefined && /^wss?:\/\//i.test(token) ? token : undefined;
  const relayToken = token !== undefined && token !== '' && signedUrl === undefined ? token : undefined;
  const url =
    signedUrl ??
    withQuery(
      endpoint,
      `agent_id=${encodeURIComponent(options.agentId)}${relayToken ? `&token=${encodeURIComponent(relayToken)}` : ''}`,
    );
  /** Audio of responses older than the last interruption is dropped (its event ids are smaller). */
  let interruptedAt = -1;
  /** The response whose audio plays now, and the one whose text is the open agent turn. */
  let audioEvent = -1;
  let textEvent = -1;

  const initiation = (): string => {
    const { prompt, firstMessage, voiceId, language } = options.overrides ?? {};
    const agent: Record<string, unknown> = {};
    if (prompt !== undefined) agent.prompt = { prompt };
    if (firstMessage !== undefined) agent.first_message = firstMessage;
    if (language !== undefined) agent.language = language;
    const override: Record<string, unknown> = {};
    if (Object.keys(agent).length > 0) override.agent = agent;
    if (voiceId !== undefined) override.tts = { voice_id: voiceId };
    const message: Record<string, unknown> = { type: 'conversation_initiation_client_data' };
    if (Object.keys(override).length > 0) message.conversation_config_override = override;
    if (options.dynamicVariables !== undefined) message.dynamic_variables = options.dynamicVariables;
    return JSON.stringify(message);
  };

  return {
    url,
    protocols: ['convai'],
    opened: () => [initiation()],
    audioBeforeReady: false,
    audio: (frame) => `{"user_audio_chunk":"${encodeBase64(frame)}"}`,
    text: (text) => [JSON.stringify({ type: 'user_message', text })],
    // The server detects the barge-in itself and says so (`interruption`): nothing to send.
    bargeIn: () => [],
    turnTaking: () => [],
    talkPressed: () => [],
    talkReleased: () => [],
    decode(data) {
      const parsed = parseJsonObject(data, 'server event');
      if (!parsed.ok) return [{ type: 'invalid', message: `ElevenLabs: ${parsed.error}` }];
      const event = parsed.value;
      switch (parsed.type) {
        case 'conversation_initiation_metadata': {
          const meta = object(event.conversation_initiation_metadata_event);
          const ready: ProviderEvent & { type: 'ready' } = { type: 'ready' };
          if (typeof meta.conversation_id === 'string') ready.conversationId = meta.conversation_id;
          const input = inputFormat(meta.user_input_audio_format);
          const output = outputFormat(meta.agent_output_audio_format);
          if (input === null || output === null) {
            return [
              {
                type: 'error',
                error: {
                  kind: 'protocol',
                  message: `ElevenLabs announced audio formats voicewire cannot use (input ${String(meta.user_input_audio_format)}, output ${String(meta.agent_output_audio_format)}).`,
                  fatal: true,
                },
                outcome: 'fail',
              },
            ];
          }
          if (input !== undefined) ready.input = input;
          if (output !== undefined) ready.output = output;
          return [ready];
        }
        case 'audio': {
          const audio = object(event.audio_event);
          const id = typeof audio.event_id === 'number' ? audio.event_id : audioEvent;
          if (id < interruptedAt || typeof audio.audio_base_64 !== 'string') return [];
          let bytes: Uint8Array;
          try {
            bytes = decodeBase64(audio.audio_base_64);
          } catch (error) {
            return [
              { type: 'invalid', message: `ElevenLabs: audio that is not valid base64 (${String(error)}).` },
            ];
          }
          const out: ProviderEvent[] = [];
          // A new response: a new stream for the player.
          if (id !== audioEvent) {
            audioEvent = id;
            out.push({ type: 'agentUtteranceStart' });
          }
          if (bytes.length > 0) out.push({ type: 'agentAudio', data: bytes });
          return out;
        }
        case 'interruption': {
          const id = object(event.interruption_event).event_id;
          if (typeof id === 'number') interruptedAt = Math.max(interruptedAt, id);
          return [{ type: 'userSpeechStart' }, { type: 'interrupted' }];
        }
        case 'agent_response': {
          const response = object(event.agent_response_event);
          if (typeof response.agent_response !== 'string') return [];
          const id = typeof response.event_id === 'number' ? response.event_id : textEvent + 1;
          const newTurn = id !== textEvent;
          textEvent = id;
          return [
            { type: 'transcript', role: 'agent', text: response.agent_response, mode: 'final', newTurn },
          ];
        }
        case 'agent_response_correction': {
          const correction = object(event.agent_response_correction_event);
          return typeof correction.corrected_agent_response === 'string'
            ? [{ type: 'interrupted', spokenText: correction.corrected_agent_response }]
            : [];
        }
        case 'user_transcript': {
          const text = object(event.user_transcription_event).user_transcript;
          if (typeof text !== 'string') return [];
          // The server transcribes a turn once it has ended: the agent is expected to answer.
          return [{ type: 'transcript', role: 'user', text, mode: 'final' }, { type: 'userSpeechEnd' }];
        }
        case 'ping': {
          const ping = object(event.ping_event);
          return [
            { type: 'keepalive' },
            { type: 'send', frame: JSON.stringify({ type: 'pong', event_id: ping.event_id }) },
          ];
        }
        case 'agent_tool_response':
          // The agent's `end_call` tool: it hangs up once its last words have played.
          return object(event.agent_tool_response).tool_name === 'end_call' ? [{ type: 'hangup' }] : [];
        case 'error':
          return [serverError(object(event.error_event))];
        default:
          return [];
      }
    },
    closed: (code, reason, everConnected) => closeDecision(code, reason, everConnected),
  };
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `pcm_16000` → 16-bit PCM at 16 kHz; `ulaw_8000` → μ-law; undefined when absent, null when unusable. */
function parseFormat(value: unknown): { kind: 'pcm' | 'ulaw'; sampleRate: number } | null | undefined {
  if (value === undefined || value === null) return undefined;
  const match = typeof value === 'string' ? /^(pcm|ulaw)_(\d+)$/.exec(value) : null;
  if (match === null) return null;
  const sampleRate = Number(match[2]);
  if (!(sampleRate >= 8_000 && sampleRate <= 96_000)) return null;
  return { kind: match[1] as 'pcm' | 'ulaw', sampleRate };
}

function inputFormat(value: unknown): WireInputFormat | null | undefined {
  const format = parseFormat(value);
  if (!format) return format;
  return { encoding: format.kind === 'ulaw' ? 'mulaw' : 'linear16', sampleRate: format.sampleRate };
}

function outputFormat(value: unknown): WireOutputFormat | null | undefined {
  const format = parseFormat(value);
  if (!format) return format;
  return { format: format.kind === 'ulaw' ? 'mulaw' : 'pcm16', sampleRate: format.sampleRate };
}

/** `{ type: 'error', error_event: { code, message, error_type } }`: reported; the server closes the socket if it must. */
function serverError(detail: Record<string, unknown>): ProviderEvent {
  const message = typeof detail.message === 'string' ? detail.message : 'ElevenLabs reported an error.';
  const error: ProviderError = { kind: 'server-error', message, fatal: false };
  if (typeof detail.code === 'number') error.code = detail.code;
  return { type: 'error', error, outcome: 'continue' };
}

const NORMAL_CLOSURE = 1000;
/** Policy violation: ElevenLabs closes with it for an unknown agent or refused credentials. */
const POLICY_VIOLATION = 1008;

/** ElevenLabs conversations cannot be resumed: a close ends the conversation, with the reason. */
function closeDecision(code: number | undefined, reason: string, everConnected: boolean): CloseDecision {
  // The agent ended the call.
  if (code === NORMAL_CLOSURE) return { action: 'end' };
  const refused = relayCloseError(code, reason);
  if (refused !== null)
    return everConnected ? { action: 'end', error: refused } : { action: 'fail', error: refused };
  const detail = reason ? `: ${reason}` : '';
  if (code === POLICY_VIOLATION) {
    const message = `ElevenLabs refused the conversation${detail || ' (check the agent id, the signed URL or the relay token)'}.`;
    return { action: 'fail', error: { kind: 'unauthorized', message, fatal: true } };
  }
  if (!everConnected) {
    const message = `Could not connect to ElevenLabs (close code ${code ?? 'none'}${detail}); check the URL and the agent.`;
    return { action: 'fail', error: { kind: 'network', message, fatal: true } };
  }
  const message = `The connection to ElevenLabs was lost (close code ${code ?? 'none'}${detail}); its conversations cannot be resumed.`;
  return { action: 'end', error: { kind: 'network', message, fatal: true } };
}
