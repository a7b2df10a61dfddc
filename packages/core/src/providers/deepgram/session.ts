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
import { DEEPGRAM_AGENT_URL, type DeepgramAgentOptions } from './options.ts';

const DEFAULT_KEEPALIVE_MS = 5_000;

/** Deepgram's session for one call: see deepgramAgent() in index.ts. */
export function startSession(
  options: DeepgramAgentOptions,
  start: ProviderStartOptions,
): ProviderSession | string {
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
    url: withQuery(endpoint, relayToken ? `token=${encodeURIComponent(relayToken)}` : ''),
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
