import { encodeBase64 } from '../../codec/base64.ts';
import type {
  ProviderSession,
  ProviderSocket,
  ProviderStartOptions,
  WireInputFormat,
  WireOutputFormat,
} from '../types.ts';
import { playAICloseDecision } from './closeCodes.ts';
import { createDecodeState, decodePlayAIFrame } from './decode.ts';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, OUTPUT_FORMATS, type OutputFormat } from './messages.ts';
import { DEFAULT_PLAYAI_INPUT, DEFAULT_PLAYAI_OUTPUT, type PlayAIOptions } from './options.ts';
import { buildSocketUrl, DEFAULT_TALK_URL } from './socketUrl.ts';
import { createSetupMessage } from './validateSetup.ts';

/** PlayAI's session for one call: see playai() in provider.ts. */
export function startSession(options: PlayAIOptions, start: ProviderStartOptions): ProviderSession | string {
  const problem = optionsProblem(options, start);
  if (problem !== null) return problem;
  return createSession(options, start);
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
