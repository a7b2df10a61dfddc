import { parseJsonObject } from '../parseJson.ts';
import { relayCloseError } from '../relayClose.ts';
import type {
  CloseDecision,
  Provider,
  ProviderError,
  ProviderEvent,
  ProviderSocket,
  WireInputFormat,
  WireOutputFormat,
} from '../types.ts';

/** One of the `Settings` message's `agent` blocks, as Deepgram documents it (snake_case keys). */
export type DeepgramSettingsBlock = Record<string, unknown>;

export interface DeepgramAgentOptions {
  /** Speech to text: `{ provider: { type: 'deepgram', version: 'v1', model: 'nova-3' } }`. @defaultValue Deepgram's */
  listen?: DeepgramSettingsBlock;
  /** The language model and its prompt: `{ provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt }`, or several. */
  think?: DeepgramSettingsBlock | DeepgramSettingsBlock[];
  /** Text to speech: `{ provider: { type: 'deepgram', model: 'aura-2-thalia-en' } }`, or several. @defaultValue Deepgram's */
  speak?: DeepgramSettingsBlock | DeepgramSettingsBlock[];
  /** What the agent says first. */
  greeting?: string;
  /**
   * How often the client sends `KeepAlive` (Deepgram closes a socket that hears nothing for about
   * 10 s, e.g. between push-to-talk turns). @defaultValue 5000
   */
  keepAliveMs?: number;
}

/** Deepgram's own endpoint. */
export const DEEPGRAM_AGENT_URL = 'wss://agent.deepgram.com/v1/agent/converse';
const DEFAULT_KEEPALIVE_MS = 5_000;

/**
 * Deepgram's Voice Agent API as a voicewire provider (docs/providers.md, "Deepgram Voice Agent"):
 * `Settings` opens the session (sent as the socket opens; the server's `Welcome` names the
 * request) and `SettingsApplied` makes it connected. Audio goes both ways as binary frames, in
 * the encodings `Settings` declares: 16-bit PCM at 16 kHz in and 24 kHz out by default (μ-law at
 * 8 kHz when `input.encoding` / `output.format` is `mulaw`).
 *
 * Credentials, as Deepgram's browser clients send them: the `apiKey` option as the subprotocols
 * `token`, `<key>`; a JSON Web Token from `getToken` (Deepgram's `/v1/auth/grant`) as `bearer`,
 * `<token>`; any other token is a relay session token, sent as `?token=`.
 *
 * Conversations cannot be resumed: a dropped connection ends the conversation, saying so.
 */
export function deepgramAgent(options: DeepgramAgentOptions = {}): Provider {
  return {
    name: 'deepgram',
    start(start) {
      const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
      if (!(keepAliveMs > 0)) return 'deepgramAgent: "keepAliveMs" must be a positive number.';
      const mulawIn = start.input.encoding === 'mulaw';
      const mulawOut = start.output.format === 'mulaw';
      const input: WireInputFormat = {
        encoding: mulawIn ? 'mulaw' : 'linear16',
        sampleRate: start.input.sampleRate ?? (mulawIn ? 8_000 : 16_000),
      };
      const output: WireOutputFormat = {
        format: mulawOut ? 'mulaw' : 'pcm16',
        sampleRate: start.output.sampleRate ?? (mulawOut ? 8_000 : 24_000),
      };
      const url = start.url ?? DEEPGRAM_AGENT_URL;
      return {
        input,
        output,
        // `ForceEndTurn` ends the held turn on release: no run of silence is needed.
        pushToTalkControl: true,
        transcriptOnInterrupt: 'estimate',
        socket: (credentials) =>
          openSocket(options, url, input, output, keepAliveMs, credentials.apiKey, credentials.token),
      };
    },
  };
}

function openSocket(
  options: DeepgramAgentOptions,
  endpoint: string,
  input: WireInputFormat,
  output: WireOutputFormat,
  keepAliveMs: number,
  apiKey: string | undefined,
  token: string | undefined,
): ProviderSocket {
  // Deepgram's grants are JSON Web Tokens (three base64url parts); a relay token has two.
  const grant = token !== undefined && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token) ? token : undefined;
  const relayToken = token && !grant ? token : undefined;
  const base = endpoint.replace(/[?#].*$/, '').replace(/\/+$/, '');
  let requestId: string | undefined;
  /** The agent's voice is streaming (an utterance is open). */
  let speaking = false;
  /** The user cut the agent off: the rest of that reply, still on its way, is dropped. */
  let dropping = false;
  /** The next agent text starts a new turn. */
  let newAgentTurn = true;
  /** The last error the server reported: the reason of a close that follows it. */
  let lastError: string | undefined;

  const agent: Record<string, unknown> = {};
  for (const key of ['listen', 'think', 'speak', 'greeting'] as const) {
    if (options[key] !== undefined) agent[key] = options[key];
  }
  const settings = JSON.stringify({
    type: 'Settings',
    audio: {
      input: { encoding: input.encoding, sample_rate: input.sampleRate },
      output: {
        encoding: output.format === 'mulaw' ? 'mulaw' : 'linear16',
        sample_rate: output.sampleRate,
        container: 'none',
      },
    },
    agent,
  });

  const startUtterance = (out: ProviderEvent[]): void => {
    if (!speaking) out.push({ type: 'agentUtteranceStart' });
    speaking = true;
  };

  return {
    url: relayToken ? `${base}?token=${encodeURIComponent(relayToken)}` : base,
    protocols: grant ? ['bearer', grant] : apiKey ? ['token', apiKey] : undefined,
    // Deepgram takes `Settings` as soon as the socket is open (its SDK sends it then).
    opened: () => [settings],
    audioBeforeReady: false,
    audio: (frame) => frame,
    text: (content) => [JSON.stringify({ type: 'InjectUserMessage', content })],
    // The server hears the barge-in itself (`UserStartedSpeaking`) and stops the reply.
    bargeIn: () => [],
    turnTaking: () => [],
    talkPressed: () => [],
    talkReleased: () => ['{"type":"ForceEndTurn"}'],
    keepAliveMs,
    keepAlive: () => '{"type":"KeepAlive"}',
    decode(data) {
      if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
        if (dropping) return [];
        const bytes = ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data);
        const out: ProviderEvent[] = [];
        startUtterance(out);
        if (bytes.length > 0) out.push({ type: 'agentAudio', data: bytes });
        return out;
      }
      const parsed = parseJsonObject(data, 'server message');
      if (!parsed.ok) return [{ type: 'invalid', message: `Deepgram: ${parsed.error}` }];
      const message = parsed.value;
      switch (parsed.type) {
        case 'Welcome':
          if (typeof message.request_id === 'string') requestId = message.request_id;
          return [];
        case 'SettingsApplied':
          return [requestId ? { type: 'ready', conversationId: requestId } : { type: 'ready' }];
        case 'UserStartedSpeaking':
          dropping = speaking;
          speaking = false;
          newAgentTurn = true;
          return [{ type: 'userSpeechStart' }];
        case 'AgentStartedSpeaking': {
          dropping = false;
          const out: ProviderEvent[] = [];
          startUtterance(out);
          return out;
        }
        case 'AgentAudioDone':
          newAgentTurn = true;
          if (!speaking) return [];
          speaking = false;
          return [{ type: 'agentUtteranceEnd' }];
        case 'ConversationText': {
          const text = message.content;
          if (typeof text !== 'string') return [];
          if (message.role === 'user') {
            newAgentTurn = true;
            // The server transcribes a turn once it has ended: the agent is expected to answer.
            return [{ type: 'transcript', role: 'user', text, mode: 'final' }, { type: 'userSpeechEnd' }];
          }
          const newTurn = newAgentTurn;
          newAgentTurn = false;
          return [{ type: 'transcript', role: 'agent', text, mode: 'final', newTurn }];
        }
        case 'Error':
        case 'Warning':
        case 'InjectionRefused': {
          const text = String(message.description ?? message.message ?? 'no description');
          const code = typeof message.code === 'string' ? ` (${message.code})` : '';
          const error: ProviderError = {
            kind: 'server-error',
            message: `Deepgram ${parsed.type === 'Error' ? 'error' : parsed.type === 'Warning' ? 'warning' : 'refused the text input'}: ${text}${code}`,
            fatal: false,
          };
          if (parsed.type === 'Error') lastError = error.message;
          return [{ type: 'error', error, outcome: 'continue' }];
        }
        default:
          return [];
      }
    },
    closed: (code, reason, everConnected) => closeDecision(code, reason || lastError || '', everConnected),
  };
}

const NORMAL_CLOSURE = 1000;

/** Deepgram conversations cannot be resumed: a close ends the conversation, with the reason. */
function closeDecision(code: number | undefined, reason: string, everConnected: boolean): CloseDecision {
  if (code === NORMAL_CLOSURE) return { action: 'end' };
  const refused = relayCloseError(code, reason);
  if (refused !== null)
    return everConnected ? { action: 'end', error: refused } : { action: 'fail', error: refused };
  const detail = `close code ${code ?? 'none'}${reason ? `: ${reason}` : ''}`;
  if (!everConnected) {
    const message = `Could not connect to Deepgram (${detail}); check the URL and the key or token.`;
    return { action: 'fail', error: { kind: 'network', message, fatal: true } };
  }
  const message = `The connection to Deepgram was lost (${detail}); its conversations cannot be resumed.`;
  return { action: 'end', error: { kind: 'network', message, fatal: true } };
}
