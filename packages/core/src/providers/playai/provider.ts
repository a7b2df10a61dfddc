import { encodeBase64 } from '../../codec/base64.ts';
import type {
  Provider,
  ProviderSession,
  ProviderSocket,
  ProviderStartOptions,
  WireInputFormat,
  WireOutputFormat,
} from '../types.ts';
import { playAICloseDecision } from './closeCodes.ts';
import { createDecodeState, decodePlayAIFrame } from './decode.ts';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, OUTPUT_FORMATS, type OutputFormat } from './messages.ts';
import { buildSocketUrl, DEFAULT_TALK_URL } from './socketUrl.ts';
import { createSetupMessage } from './validateSetup.ts';

export interface PlayAIOptions {
  /** The agent to talk to. */
  agentId: string;
  /** Replaces the agent's greeting for this conversation (`setup.customGreeting`). */
  customGreeting?: string;
  /** Added to the agent's prompt for this conversation (`setup.prompt`). */
  prompt?: string;
  /**
   * The API key, sent in `setup` (prototypes only: in production a relay injects it). The
   * conversation's `apiKey` option is used when this is absent.
   */
  apiKey?: string;
}

/**
 * The microphone's format unless the integrator picks one (`input` option): 16-bit PCM at
 * 16 kHz, the rate speech recognisers work at.
 */
export const DEFAULT_PLAYAI_INPUT: WireInputFormat = { encoding: 'linear16', sampleRate: 16_000 };
/**
 * The agent's format unless the integrator picks one (`output` option): 16-bit PCM WAV at 24 kHz.
 * Measured (README "Measured"): the PCM formats are audible first (~20 ms from the first chunk,
 * mp3 ~75 ms), and wav carries 16-bit samples in half the bytes of `raw` float32; 24 kHz covers
 * the voice's band at about half the bytes of 44.1/48 kHz.
 */
export const DEFAULT_PLAYAI_OUTPUT: { format: OutputFormat; sampleRate: number } = {
  format: 'wav',
  sampleRate: 24_000,
};

/**
 * PlayAI's agent talk protocol (docs/protocol.md): `wss://api.play.ai/v1/talk/<agentId>`, a
 * `setup` message first, the agent's `init`, audio as base64 in JSON both ways. The default
 * provider: a conversation without a `provider` option talks PlayAI with its `agentId`,
 * `customGreeting` and `prompt` options.
 *
 * Credentials: `apiKey` travels in `setup`; a token (`token`, `getToken`) is a relay session
 * token, sent as `?token=` on the socket URL. `url` is a base like `wss://host/v1/talk` (the
 * socket opens `<url>/<agentId>`), or the deployed SDK's `/v1/agents` path; see
 * docs/protocol.md, "Endpoints". A dropped connection resumes the same conversation
 * (`continueConversation`).
 */
export function playai(options: PlayAIOptions): Provider {
  return {
    name: 'playai',
    start(start) {
      const problem = optionsProblem(options, start);
      if (problem !== null) return problem;
      return createSession(options, start);
    },
  };
}

function optionsProblem(options: PlayAIOptions, start: ProviderStartOptions): string | null {
  if (typeof options?.agentId !== 'string' || options.agentId.trim() === '') {
    return 'The "agentId" option is required.';
  }
  const format = start.output.format ?? DEFAULT_PLAYAI_OUTPUT.format;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    return `output.format must be one of ${OUTPUT_FORMATS.join(', ')} (got "${format}").`;
  }
  const rate = start.output.sampleRate ?? DEFAULT_PLAYAI_OUTPUT.sampleRate;
  if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ) {
    return `output.sampleRate must be an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz (got ${rate}).`;
  }
  return null;
}

function createSession(options: PlayAIOptions, start: ProviderStartOptions): ProviderSession {
  const input: WireInputFormat = {
    encoding: start.input.encoding ?? DEFAULT_PLAYAI_INPUT.encoding,
    sampleRate: start.input.sampleRate ?? DEFAULT_PLAYAI_INPUT.sampleRate,
  };
  const output = {
    format: (start.output.format ?? DEFAULT_PLAYAI_OUTPUT.format) as OutputFormat,
    sampleRate: start.output.sampleRate ?? DEFAULT_PLAYAI_OUTPUT.sampleRate,
  } satisfies WireOutputFormat;
  return {
    input,
    output,
    pushToTalkControl: false,
    transcriptOnInterrupt: 'server',
    socket(credentials, resume): ProviderSocket {
      const state = createDecodeState();
      const setup = createSetupMessage({
        apiKey: options.apiKey ?? credentials.apiKey,
        outputFormat: output.format,
        outputSampleRate: output.sampleRate,
        inputEncoding: input.encoding,
        inputSampleRate: input.sampleRate,
        customGreeting: options.customGreeting,
        prompt: options.prompt,
        // A reconnect resumes the same conversation.
        continueConversation: resume ?? start.continueConversation,
      });
      return {
        url: buildSocketUrl(options.agentId, start.url ?? DEFAULT_TALK_URL, credentials.token),
        opened: () => [JSON.stringify(setup)],
        decode: (data) => decodePlayAIFrame(data, state),
        // The service buffers audio sent right after `setup`: the first words spoken while
        // connecting reach the agent.
        audioBeforeReady: true,
        audio: (frame) => `{"type":"audioIn","data":"${encodeBase64(frame)}"}`,
        text: (text) => [JSON.stringify({ type: 'customInput', data: text })],
        bargeIn: () => [],
        turnTaking: () => [],
        talkPressed: () => [],
        talkReleased: () => [],
        closed: (code, reason, everConnected) =>
          playAICloseDecision(code, reason, state.lastError, everConnected),
      };
    },
  };
}
