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

import { OPENAI_REALTIME_URL, type OpenAIRealtimeOptions } from './options.ts';

const DEFAULT_MODEL = 'gpt-realtime';
const PCM_RATE_HZ = 24_000;
const PCMU_RATE_HZ = 8_000;

/** OpenAI Realtime's session for one call: see openaiRealtime() in index.ts. */
export function startSession(
  options: OpenAIRealtimeOptions,
  start: ProviderStartOptions,
): ProviderSession | string {
  const model = options.model ?? DEFAULT_MODEL;
  if (typeof model !== 'string' || model.trim() === '')
    return 'openaiRealtime: "model" must be a model name.';
  const mulawIn = start.input.encoding === 'mulaw';
  const mulawOut = start.output.format === 'mulaw';
  const input: WireInputFormat = mulawIn
    ? { encoding: 'mulaw', sampleRate: PCMU_RATE_HZ }
    : { encoding: 'linear16', sampleRate: PCM_RATE_HZ };
  const output: WireOutputFormat = mulawOut
    ? { format: 'mulaw', sampleRate: PCMU_RATE_HZ }
    : { format: 'pcm16', sampleRate: PCM_RATE_HZ };
  const session = {
    model,
    input,
    output,
    pushToTalk: start.turnTaking === 'pushToTalk',
    url: start.url ?? OPENAI_REALTIME_URL,
  };
  return {
    input,
    output,
    pushToTalkControl: true,
    transcriptOnInterrupt: 'estimate',
    socket: (credentials) => openSocket(options, session, credentials.apiKey, credentials.token),
  };
}

interface SessionSettings {
  model: string;
  input: WireInputFormat;
  output: WireOutputFormat;
  pushToTalk: boolean;
  url: string;
}

function openSocket(
  options: OpenAIRealtimeOptions,
  settings: SessionSettings,
  apiKey: string | undefined,
  token: string | undefined,
): ProviderSocket {
  const ephemeral = token?.startsWith('ek_') ? token : undefined;
  const key = ephemeral ?? apiKey;
  const relayToken = token !== undefined && ephemeral === undefined && token !== '' ? token : undefined;
  const query = `model=${encodeURIComponent(settings.model)}${relayToken ? `&token=${encodeURIComponent(relayToken)}` : ''}`;
  const url = withQuery(settings.url, query);
  let pushToTalk = settings.pushToTalk;
  let greeted = false;
  let ready = false;
  /** The assistant item whose audio plays now, and the items the user cut off (their rest is dropped). */
  let item: { id: string; contentIndex: number } | null = null;
  const cutOff = new Set<string>();
  /** A response is being generated (between `response.created` and `response.done`). */
  let responding = false;
  /** Items whose transcript has begun (a new item starts a new agent turn). */
  const seenTranscript = new Set<string>();

  const sessionUpdate = (): string => {
    const format = (f: { encoding?: string; format?: string; sampleRate: number }) =>
      f.encoding === 'mulaw' || f.format === 'mulaw'
        ? { type: 'audio/pcmu' }
        : { type: 'audio/pcm', rate: f.sampleRate };
    const transcription =
      options.transcriptionModel === null
        ? null
        : { model: options.transcriptionModel ?? 'gpt-4o-mini-transcribe' };
    const session: Record<string, unknown> = {
      type: 'realtime',
      output_modalities: ['audio'],
      audio: {
        input: {
          format: format(settings.input),
          transcription,
          turn_detection: turnDetection(options, pushToTalk),
        },
        output: { format: format(settings.output), ...(options.voice ? { voice: options.voice } : {}) },
      },
    };
    if (options.instructions !== undefined) session.instructions = options.instructions;
    return JSON.stringify({ type: 'session.update', session });
  };

  const greeting = (): string[] => {
    if (greeted || options.greeting === false) return [];
    greeted = true;
    const text = typeof options.greeting === 'string' ? options.greeting : undefined;
    return [
      JSON.stringify(
        text === undefined
          ? { type: 'response.create' }
          : {
              type: 'response.create',
              response: { instructions: `Say exactly this, and nothing else: ${text}` },
            },
      ),
    ];
  };

  return {
    url,
    protocols:
      key === undefined || key === '' ? ['realtime'] : ['realtime', `openai-insecure-api-key.${key}`],
    opened: () => [sessionUpdate()],
    audioBeforeReady: false,
    audio: (frame) => `{"type":"input_audio_buffer.append","audio":"${encodeBase64(frame)}"}`,
    text: (text) => [
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
      }),
      JSON.stringify({ type: 'response.create' }),
    ],
    bargeIn({ playedMs, cutOff: something, local }) {
      const frames: string[] = [];
      // Without server VAD (push-to-talk) or when the server leaves it to the client, the
      // response still being generated is cancelled here.
      if (responding && (local || pushToTalk)) frames.push('{"type":"response.cancel"}');
      if (item !== null && something) {
        cutOff.add(item.id);
        frames.push(
          JSON.stringify({
            type: 'conversation.item.truncate',
            item_id: item.id,
            content_index: item.contentIndex,
            audio_end_ms: Math.max(0, Math.floor(playedMs)),
          }),
        );
        item = null;
      }
      return frames;
    },
    turnTaking(mode) {
      pushToTalk = mode === 'pushToTalk';
      return ready ? [sessionUpdate()] : [];
    },
    // Taking the floor: what the microphone sent before the press is not part of the turn.
    talkPressed: () => ['{"type":"input_audio_buffer.clear"}'],
    talkReleased: () => ['{"type":"input_audio_buffer.commit"}', '{"type":"response.create"}'],
    decode(data) {
      const parsed = parseJsonObject(data, 'server event');
      if (!parsed.ok) return [{ type: 'invalid', message: `OpenAI Realtime: ${parsed.error}` }];
      const event = parsed.value;
      switch (parsed.type) {
        case 'session.updated': {
          const first = !ready;
          ready = true;
          if (!first) return [];
          const id = (event.session as { id?: unknown } | undefined)?.id;
          const out: ProviderEvent[] = [
            typeof id === 'string' ? { type: 'ready', conversationId: id } : { type: 'ready' },
          ];
          for (const frame of greeting()) out.push({ type: 'send', frame });
          return out;
        }
        case 'input_audio_buffer.speech_started':
          return [{ type: 'userSpeechStart' }];
        case 'input_audio_buffer.speech_stopped':
          return [{ type: 'userSpeechEnd' }];
        case 'response.created':
          responding = true;
          return [];
        case 'response.done':
          responding = false;
          return responseFailure(event);
        case 'response.output_audio.delta':
        case 'response.audio.delta':
          return audioDelta(event);
        case 'response.output_audio.done':
        case 'response.audio.done': {
          const id = str(event.item_id);
          return id !== undefined && item?.id === id ? [{ type: 'agentUtteranceEnd' }] : [];
        }
        case 'response.output_audio_transcript.delta':
        case 'response.audio_transcript.delta': {
          const id = str(event.item_id);
          const delta = str(event.delta);
          if (id === undefined || delta === undefined || cutOff.has(id)) return [];
          const first = !seenTranscript.has(id);
          seenTranscript.add(id);
          return [{ type: 'transcript', role: 'agent', text: delta, mode: 'delta', newTurn: first }];
        }
        case 'response.output_audio_transcript.done':
        case 'response.audio_transcript.done': {
          const id = str(event.item_id);
          const text = str(event.transcript);
          if (id === undefined || text === undefined || cutOff.has(id)) return [];
          const first = !seenTranscript.has(id);
          seenTranscript.add(id);
          return [{ type: 'transcript', role: 'agent', text, mode: 'final', newTurn: first }];
        }
        case 'conversation.item.input_audio_transcription.delta': {
          const delta = str(event.delta);
          return delta === undefined
            ? []
            : [{ type: 'transcript', role: 'user', text: delta, mode: 'delta' }];
        }
        case 'conversation.item.input_audio_transcription.completed': {
          const text = str(event.transcript);
          return text === undefined ? [] : [{ type: 'transcript', role: 'user', text, mode: 'final' }];
        }
        case 'error':
          return [serverError(event.error)];
        default:
          return [];
      }
    },
    closed: (code, reason, everConnected) => closeDecision(code, reason, everConnected),
  };

  function audioDelta(event: Record<string, unknown>): ProviderEvent[] {
    const id = str(event.item_id);
    const delta = str(event.delta);
    if (id === undefined || delta === undefined) {
      return [{ type: 'invalid', message: 'OpenAI Realtime: an audio delta without "item_id" or "delta".' }];
    }
    // The rest of an item the user cut off: never heard.
    if (cutOff.has(id)) return [];
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(delta);
    } catch (error) {
      return [
        { type: 'invalid', message: `OpenAI Realtime: audio that is not valid base64 (${String(error)}).` },
      ];
    }
    const out: ProviderEvent[] = [];
    if (item?.id !== id) {
      item = { id, contentIndex: typeof event.content_index === 'number' ? event.content_index : 0 };
      out.push({ type: 'agentUtteranceStart' });
    }
    if (bytes.length > 0) out.push({ type: 'agentAudio', data: bytes });
    return out;
  }
}

function turnDetection(options: OpenAIRealtimeOptions, pushToTalk: boolean): Record<string, unknown> | null {
  if (pushToTalk) return null;
  return { type: options.turnDetection ?? 'server_vad', create_response: true, interrupt_response: true };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `{ type: 'error', error: { type, code, message } }`: reported; the session stays open. */
function serverError(detail: unknown): ProviderEvent {
  const error = (typeof detail === 'object' && detail !== null ? detail : {}) as Record<string, unknown>;
  const code = str(error.code);
  const message = str(error.message) ?? 'OpenAI Realtime reported an error.';
  const kind: ProviderError['kind'] =
    code === 'invalid_api_key' || error.type === 'authentication_error'
      ? 'unauthorized'
      : error.type === 'invalid_request_error'
        ? 'invalid-parameters'
        : 'server-error';
  if (kind === 'unauthorized')
    return { type: 'error', error: { kind, message, fatal: true }, outcome: 'fail' };
  return {
    type: 'error',
    error: { kind, message: code ? `${message} (${code})` : message, fatal: false },
    outcome: 'continue',
  };
}

/** A response that ended `failed` (`response.done` with `status_details.error`). */
function responseFailure(event: Record<string, unknown>): ProviderEvent[] {
  const response = event.response as { status?: unknown; status_details?: { error?: unknown } } | undefined;
  if (response?.status !== 'failed') return [];
  const detail = response.status_details?.error as { message?: unknown } | undefined;
  const message = typeof detail?.message === 'string' ? detail.message : 'The response failed.';
  return [{ type: 'error', error: { kind: 'server-error', message, fatal: false }, outcome: 'continue' }];
}

const NORMAL_CLOSURE = 1000;

/** OpenAI Realtime sessions cannot be resumed: a close ends the conversation, with the reason. */
function closeDecision(code: number | undefined, reason: string, everConnected: boolean): CloseDecision {
  if (code === NORMAL_CLOSURE) return { action: 'end' };
  const refused = relayCloseError(code, reason);
  if (refused !== null)
    return everConnected ? { action: 'end', error: refused } : { action: 'fail', error: refused };
  const detail = reason ? `: ${reason}` : '';
  if (!everConnected) {
    const message = `Could not connect to OpenAI Realtime (close code ${code ?? 'none'}${detail}); check the URL and the key or token.`;
    return { action: 'fail', error: { kind: 'network', message, fatal: true } };
  }
  const message = `The connection to OpenAI Realtime was lost (close code ${code ?? 'none'}${detail}); its sessions cannot be resumed.`;
  return { action: 'end', error: { kind: 'network', message, fatal: true } };
}
