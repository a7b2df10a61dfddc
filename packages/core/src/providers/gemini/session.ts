import { decodeBase64, encodeBase64 } from '../../codec/base64.ts';
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
import { GEMINI_LIVE_URL, type GeminiLiveOptions } from './options.ts';

const DEFAULT_MODEL = 'gemini-live-2.5-flash-preview';
const INPUT_RATE_HZ = 16_000;
const OUTPUT_RATE_HZ = 24_000;

/** Gemini Live's session for one call: see geminiLive() in index.ts. */
export function startSession(
  options: GeminiLiveOptions,
  start: ProviderStartOptions,
): ProviderSession | string {
  const model = options.model ?? DEFAULT_MODEL;
  if (typeof model !== 'string' || model.trim() === '') return 'geminiLive: "model" must be a model name.';
  const sampleRate =
    start.input.encoding !== 'mulaw' ? (start.input.sampleRate ?? INPUT_RATE_HZ) : INPUT_RATE_HZ;
  /** The newest resumption handle: survives the sockets of this call. */
  const session = { handle: start.continueConversation };
  const url = start.url ?? GEMINI_LIVE_URL;
  return {
    input: { encoding: 'linear16', sampleRate },
    output: { format: 'pcm16', sampleRate: OUTPUT_RATE_HZ },
    // `audioStreamEnd` closes the held turn on release: no run of silence is needed.
    pushToTalkControl: true,
    transcriptOnInterrupt: 'estimate',
    socket: (credentials) =>
      openSocket(options, model, url, sampleRate, session, credentials.apiKey, credentials.token),
  };
}

function openSocket(
  options: GeminiLiveOptions,
  model: string,
  endpoint: string,
  inputRate: number,
  session: { handle: string | undefined },
  apiKey: string | undefined,
  token: string | undefined,
): ProviderSocket {
  const ephemeral = token?.startsWith('auth_tokens/') === true;
  // Ephemeral tokens are taken only by the v1alpha `…Constrained` method (as Google's SDK sends them).
  const base = ephemeral
    ? endpoint.replace(
        /\.v1\w*\.GenerativeService\.BidiGenerateContent(?=\/*(?:[?#]|$))/,
        '.v1alpha.GenerativeService.BidiGenerateContentConstrained',
      )
    : endpoint;
  const query = ephemeral
    ? `access_token=${encodeURIComponent(token as string)}`
    : [apiKey ? `key=${encodeURIComponent(apiKey)}` : '', token ? `token=${encodeURIComponent(token)}` : '']
        .filter(Boolean)
        .join('&');
  const mimeType = `audio/pcm;rate=${inputRate}`;
  /** The handle this socket resumes with. */
  const resuming = session.handle;
  let ready = false;
  let goingAway = false;
  /** The model's audio is streaming (an utterance is open). */
  let speaking = false;
  /** The model turn was interrupted: what is left of it (transcript pieces) is dropped until `turnComplete`. */
  let cut = false;
  /** The open agent / user transcript turns (pieces append to them). */
  let agentOpen = false;
  let userOpen = false;

  const setup = (): string => {
    const generationConfig: Record<string, unknown> = { responseModalities: ['AUDIO'] };
    if (options.voice) {
      generationConfig.speechConfig = { voiceConfig: { prebuiltVoiceConfig: { voiceName: options.voice } } };
    }
    const body: Record<string, unknown> = {
      model: /^(models|tunedModels)\//.test(model) ? model : `models/${model}`,
      generationConfig,
    };
    if (options.systemInstruction) {
      body.systemInstruction = { parts: [{ text: options.systemInstruction }], role: 'user' };
    }
    body.sessionResumption = resuming ? { handle: resuming } : {};
    body.inputAudioTranscription = {};
    body.outputAudioTranscription = {};
    return JSON.stringify({ setup: body });
  };

  /** The end of the model's utterance, once. */
  const endUtterance = (out: ProviderEvent[]): void => {
    if (speaking) out.push({ type: 'agentUtteranceEnd' });
    speaking = false;
  };

  return {
    url: withQuery(base, query),
    opened: () => [setup()],
    audioBeforeReady: false,
    audio: (frame) =>
      `{"realtimeInput":{"audio":{"data":"${encodeBase64(frame)}","mimeType":"${mimeType}"}}}`,
    text: (text) => [
      JSON.stringify({ clientContent: { turns: [{ parts: [{ text }], role: 'user' }], turnComplete: true } }),
    ],
    // The server hears the barge-in itself and says so (`interrupted`).
    bargeIn: () => [],
    turnTaking: () => [],
    talkPressed: () => [],
    // The microphone is gated; this flushes the server's voice detection and ends the turn now.
    talkReleased: () => ['{"realtimeInput":{"audioStreamEnd":true}}'],
    decode(data) {
      const message = parse(data);
      if (message === undefined)
        return [{ type: 'invalid', message: 'Gemini Live: a frame that is not a JSON object.' }];
      const out: ProviderEvent[] = [];
      if (message.setupComplete !== undefined && !ready) {
        ready = true;
        const id = object(message.setupComplete).sessionId;
        out.push(typeof id === 'string' && id ? { type: 'ready', conversationId: id } : { type: 'ready' });
      }
      const update = object(message.sessionResumptionUpdate);
      if (update.resumable === true && typeof update.newHandle === 'string' && update.newHandle) {
        session.handle = update.newHandle;
      }
      // The server closes soon: that close resumes rather than ends the call.
      if (message.goAway !== undefined) goingAway = true;
      const content = object(message.serverContent);
      if (content.interrupted === true) {
        out.push({ type: 'userSpeechStart' });
        if (speaking) out.push({ type: 'interrupted' });
        speaking = false;
        cut = true;
        agentOpen = false;
      }
      const parts = object(content.modelTurn).parts;
      for (const part of Array.isArray(parts) ? parts : []) {
        const inline = object(object(part).inlineData);
        if (typeof inline.data !== 'string' || !String(inline.mimeType).startsWith('audio/')) continue;
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64(inline.data);
        } catch (error) {
          out.push({
            type: 'invalid',
            message: `Gemini Live: audio that is not valid base64 (${String(error)}).`,
          });
          continue;
        }
        // A model turn after an interruption: a new reply (the cut one is never continued).
        cut = false;
        if (!speaking) out.push({ type: 'agentUtteranceStart' });
        speaking = true;
        if (bytes.length > 0) out.push({ type: 'agentAudio', data: bytes });
      }
      const said = object(content.outputTranscription).text;
      if (typeof said === 'string' && said !== '' && !cut) {
        out.push({ type: 'transcript', role: 'agent', text: said, mode: 'delta', newTurn: !agentOpen });
        agentOpen = true;
      }
      const heard = object(content.inputTranscription);
      if (typeof heard.text === 'string' && heard.text !== '') {
        out.push({ type: 'transcript', role: 'user', text: heard.text, mode: 'delta', newTurn: !userOpen });
        userOpen = true;
      }
      if (heard.finished === true && userOpen) {
        userOpen = false;
        out.push({ type: 'userSpeechEnd' });
      }
      if (content.generationComplete === true) endUtterance(out);
      if (content.turnComplete === true) {
        endUtterance(out);
        cut = agentOpen = userOpen = false;
      }
      return out;
    },
    closed: (code, reason, everConnected) =>
      closeDecision(code, reason, everConnected, goingAway, session.handle),
  };
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A server message: a JSON object in a text frame, or in a binary one (Google sends both). */
function parse(data: unknown): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(
      typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer),
    );
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    // Not JSON, not UTF-8 bytes (a Blob, a number): reported below.
    return undefined;
  }
}

const NORMAL_CLOSURE = 1000;
/** Google's closes for a request it refuses: 1007 an invalid argument, 1008 a policy (key, quota). */
const INVALID_ARGUMENT = 1007;
const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;

/**
 * 1000 is the end, unless the server warned with `goAway` (then it is a close to resume from);
 * a refusal fails; a lost connection resumes with the newest handle, or ends without one.
 */
function closeDecision(
  code: number | undefined,
  reason: string,
  everConnected: boolean,
  goingAway: boolean,
  handle: string | undefined,
): CloseDecision {
  if (code === NORMAL_CLOSURE && !goingAway) return { action: 'end' };
  const detail = `close code ${code ?? 'none'}${reason ? `: ${reason}` : ''}`;
  const relay = relayCloseError(code, reason);
  if (relay !== null && code !== 1011) {
    return everConnected ? { action: 'end', error: relay } : { action: 'fail', error: relay };
  }
  if (code === INVALID_ARGUMENT || code === POLICY_VIOLATION) {
    const kind = code === POLICY_VIOLATION ? 'unauthorized' : 'invalid-parameters';
    return {
      action: 'fail',
      error: { kind, code, message: `Gemini Live refused the session (${detail}).`, fatal: true },
    };
  }
  const error = (message: string, fatal: boolean): ProviderError => ({ kind: 'network', message, fatal });
  if (!everConnected) {
    return {
      action: 'fail',
      error:
        relay ??
        error(`Could not connect to Gemini Live (${detail}); check the URL and the key or token.`, true),
    };
  }
  if (handle) {
    // 1011 is Google's internal error: the service failed, not the network (the close says so;
    // there is no error message before it). Either is resumed; the status says that, not the
    // message, which is the call's last word when reconnecting is off or gives up.
    return {
      action: 'reconnect',
      error:
        code === INTERNAL_ERROR
          ? { kind: 'server-error', code, message: `Gemini Live failed (${detail}).`, fatal: false }
          : error(`The connection to Gemini Live was lost (${detail}).`, false),
    };
  }
  return {
    action: 'end',
    error:
      relay ??
      error(`The connection to Gemini Live was lost (${detail}); there was no session to resume yet.`, true),
  };
}
