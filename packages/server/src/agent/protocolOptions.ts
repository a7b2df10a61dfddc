/**
 * The local agent's options that belong to one protocol (when OpenAI's and Gemini's greetings are
 * spoken, ElevenLabs' formats and pings, Gemini's connection lifetime, Deepgram's client timeout),
 * and their checks: what every session of that dialect reads from its context.
 */
import {
  ELEVENLABS_FORMATS,
  type ElevenLabsFormat,
  type GeminiGreeting,
  type OpenAIGreeting,
  type SessionContext,
} from './context.ts';

export interface ProtocolOptions {
  /**
   * When the agent greets on OpenAI's protocol, which has no greeting of its own: `on-request`
   * speaks it in answer to the client's first `response.create` (how apps make the model greet);
   * `auto` speaks it as soon as the client's first `session.update` is answered (or 1 s after
   * `session.created` without one). `?greeting=auto|on-request` on the socket URL sets it per call.
   * @defaultValue 'on-request'
   */
  openaiGreeting?: OpenAIGreeting;
  /** ElevenLabs' protocol: the formats `conversation_initiation_metadata` announces, and pings. */
  elevenlabs?: {
    /**
     * The user's audio (`user_input_audio_format`); `?user_input_audio_format=` on the socket URL
     * sets it per call. @defaultValue 'pcm_16000'
     */
    userInputAudioFormat?: ElevenLabsFormat;
    /**
     * The agent's audio (`agent_output_audio_format`); `?agent_output_audio_format=` sets it per
     * call. @defaultValue 'pcm_16000'
     */
    agentOutputAudioFormat?: ElevenLabsFormat;
    /**
     * A `ping` every this many ms; a client that answers none for 15 intervals (30 s at the
     * default) is dropped with 1008.
     * @defaultValue 2000
     */
    pingIntervalMs?: number;
  };
  /** Gemini Live: when the agent greets, and how long a connection lives. */
  gemini?: {
    /**
     * `auto` speaks the greeting once `setupComplete` is sent; `on-request` waits for the client's
     * first empty `clientContent { turnComplete: true }` (how apps make the model speak first).
     * `?greeting=` on the socket URL sets it per call. @defaultValue 'auto'
     */
    greeting?: GeminiGreeting;
    /**
     * Close each connection this long after `setupComplete` (1011, "Deadline expired…"), with a
     * `goAway { timeLeft }` 10 s before (half the time when shorter), as the service resets its
     * connections; the client resumes with its latest handle. @defaultValue never
     */
    connectionLifetimeMs?: number;
  };
  /** Deepgram's Voice Agent protocol. */
  deepgram?: {
    /**
     * A client that sends nothing (audio, `KeepAlive`, any message) for this long gets
     * `Error { code: 'CLIENT_MESSAGE_TIMEOUT' }` and is closed (1011), as the service drops it.
     * @defaultValue 10000
     */
    clientTimeoutMs?: number;
  };
}

/** The protocols' settings for the sessions' context; throws a `RangeError` naming a bad value. */
export function protocolSettings(
  options: ProtocolOptions,
): Pick<SessionContext, 'openaiGreeting' | 'elevenlabs' | 'gemini' | 'deepgram'> {
  const openaiGreeting = options.openaiGreeting ?? 'on-request';
  if (openaiGreeting !== 'on-request' && openaiGreeting !== 'auto') {
    throw new RangeError(
      `openaiGreeting must be "on-request" or "auto", got ${JSON.stringify(openaiGreeting)}`,
    );
  }
  const elevenlabs = {
    inputFormat: options.elevenlabs?.userInputAudioFormat ?? 'pcm_16000',
    outputFormat: options.elevenlabs?.agentOutputAudioFormat ?? 'pcm_16000',
    pingIntervalMs: options.elevenlabs?.pingIntervalMs ?? 2_000,
  } as const;
  for (const format of [elevenlabs.inputFormat, elevenlabs.outputFormat]) {
    if (!(ELEVENLABS_FORMATS as readonly string[]).includes(format))
      throw new RangeError(
        `ElevenLabs audio format must be one of ${ELEVENLABS_FORMATS.join(', ')}, got ${format}`,
      );
  }
  if (!Number.isInteger(elevenlabs.pingIntervalMs) || elevenlabs.pingIntervalMs < 100) {
    throw new RangeError(
      `elevenlabs.pingIntervalMs must be an integer of at least 100, got ${elevenlabs.pingIntervalMs}`,
    );
  }
  const gemini = {
    greeting: options.gemini?.greeting ?? 'auto',
    connectionLifetimeMs: options.gemini?.connectionLifetimeMs,
  } as const;
  if (gemini.greeting !== 'auto' && gemini.greeting !== 'on-request') {
    throw new RangeError(
      `gemini.greeting must be "auto" or "on-request", got ${JSON.stringify(gemini.greeting)}`,
    );
  }
  const lifetime = gemini.connectionLifetimeMs;
  if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 100)) {
    throw new RangeError(`gemini.connectionLifetimeMs must be an integer of at least 100, got ${lifetime}`);
  }
  const deepgram = { clientTimeoutMs: options.deepgram?.clientTimeoutMs ?? 10_000 };
  if (!Number.isInteger(deepgram.clientTimeoutMs) || deepgram.clientTimeoutMs < 100) {
    throw new RangeError(
      `deepgram.clientTimeoutMs must be an integer of at least 100, got ${deepgram.clientTimeoutMs}`,
    );
  }
  return { openaiGreeting, elevenlabs, gemini, deepgram };
}
