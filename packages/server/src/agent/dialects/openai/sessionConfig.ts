/**
 * OpenAI Realtime's session configuration on the local agent: what `session.update` may change,
 * checked field by field (a bad value is an `error` event naming its `param`, and nothing is
 * applied), and the `session` object `session.created` / `session.updated` carry. The GA shape
 * (`session.audio.input.format`, …) is read and written; the beta's top-level fields
 * (`input_audio_format: 'pcm16'`, `turn_detection`, `voice`, `input_audio_transcription`) are read
 * too. Fields the agent has no use for (tools, tracing, …) are kept and echoed back.
 */
import type { AgentAudioFormat, AgentInputEncoding } from '../../../audio/index.ts';

/** The only PCM rate the service accepts. */
export const OPENAI_PCM_RATE_HZ = 24_000;
/** G.711's rate. */
const G711_RATE_HZ = 8_000;

export type OpenAIAudioFormat =
  | { type: 'audio/pcm'; rate: 24000 }
  | { type: 'audio/pcmu' }
  | { type: 'audio/pcma' };

export interface TurnDetection {
  type: 'server_vad' | 'semantic_vad';
  create_response: boolean;
  interrupt_response: boolean;
  /** Only `server_vad` has it; `semantic_vad` uses the agent's own silence. */
  silence_duration_ms?: number;
  /** Echoed back; the agent's detector has its own threshold. */
  [other: string]: unknown;
}

export interface OpenAISessionConfig {
  id: string;
  model: string;
  instructions: string;
  outputModalities: string[];
  voice: string;
  speed: number;
  inputFormat: OpenAIAudioFormat;
  outputFormat: OpenAIAudioFormat;
  /** `null`: no user transcripts (`conversation.item.input_audio_transcription.completed`). */
  transcription: Record<string, unknown> | null;
  noiseReduction: Record<string, unknown> | null;
  /** `null`: push-to-talk (the client commits turns and asks for responses). */
  turnDetection: TurnDetection | null;
  /** Everything else the client set, echoed back as given (`tools`, `tracing`, …). */
  extra: Record<string, unknown>;
  expiresAt: number;
}

/** The service's voices, each given one of mespeak's English voices so that they sound apart. */
const VOICES: Record<string, string | undefined> = {
  marin: undefined,
  alloy: 'en/en',
  ash: 'en/en-rp',
  ballad: 'en/en-sc',
  coral: 'en/en-n',
  echo: 'en/en-wm',
  sage: 'en/en',
  shimmer: 'en/en-rp',
  verse: 'en/en-sc',
  cedar: 'en/en-n',
};

/** The mespeak voice that speaks an OpenAI voice. */
export function mespeakVoice(voice: string): string | undefined {
  return VOICES[voice];
}

export function defaultSessionConfig(id: string, model: string, silenceMs: number): OpenAISessionConfig {
  return {
    id,
    model,
    instructions: '',
    outputModalities: ['audio'],
    voice: 'marin',
    speed: 1,
    inputFormat: { type: 'audio/pcm', rate: OPENAI_PCM_RATE_HZ },
    outputFormat: { type: 'audio/pcm', rate: OPENAI_PCM_RATE_HZ },
    transcription: null,
    noiseReduction: null,
    turnDetection: {
      type: 'server_vad',
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: silenceMs,
      create_response: true,
      interrupt_response: true,
    },
    extra: { tools: [], tool_choice: 'auto', max_output_tokens: 'inf', tracing: null, prompt: null },
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
}

/** The `session` object of `session.created` / `session.updated`. */
export function sessionObject(config: OpenAISessionConfig): Record<string, unknown> {
  return {
    ...config.extra,
    type: 'realtime',
    object: 'realtime.session',
    id: config.id,
    model: config.model,
    output_modalities: config.outputModalities,
    instructions: config.instructions,
    expires_at: config.expiresAt,
    audio: {
      input: {
        format: config.inputFormat,
        transcription: config.transcription,
        noise_reduction: config.noiseReduction,
        turn_detection: config.turnDetection,
      },
      output: { format: config.outputFormat, voice: config.voice, speed: config.speed },
    },
  };
}

export type SessionUpdateResult =
  | { ok: true; config: OpenAISessionConfig }
  | { ok: false; message: string; param: string };

/** `current` with `session.update`'s `session` applied; never throws for anything a client sends. */
export function applySessionUpdate(current: OpenAISessionConfig, session: unknown): SessionUpdateResult {
  if (!isObject(session)) return fail('session', 'must be an object');
  const next: OpenAISessionConfig = { ...current, extra: { ...current.extra } };
  const { type, audio, model, instructions, id, object, expires_at, ...rest } = session;
  void id;
  void object;
  void expires_at;
  if (type !== undefined && type !== 'realtime') {
    return fail('session.type', `the local agent serves "realtime" sessions, not ${show(type)}`);
  }
  if (model !== undefined && typeof model !== 'string') return fail('session.model', 'must be a string');
  if (instructions !== undefined) {
    if (typeof instructions !== 'string') return fail('session.instructions', 'must be a string');
    next.instructions = instructions;
  }
  // The beta's top-level names, read as their GA places.
  const beta = {
    voice: take(rest, 'voice'),
    inputFormat: take(rest, 'input_audio_format'),
    outputFormat: take(rest, 'output_audio_format'),
    turnDetection: take(rest, 'turn_detection'),
    transcription: take(rest, 'input_audio_transcription'),
    modalities: take(rest, 'modalities'),
    speed: take(rest, 'speed'),
  };
  const modalities = take(rest, 'output_modalities') ?? beta.modalities;
  if (modalities !== undefined) {
    if (!Array.isArray(modalities) || !modalities.every((m) => m === 'audio' || m === 'text')) {
      return fail('session.output_modalities', 'must be a list of "audio" and "text"');
    }
    next.outputModalities = modalities as string[];
  }
  let input: Record<string, unknown> = {};
  let output: Record<string, unknown> = {};
  if (audio !== undefined) {
    if (!isObject(audio)) return fail('session.audio', 'must be an object');
    if (audio.input !== undefined && !isObject(audio.input))
      return fail('session.audio.input', 'must be an object');
    if (audio.output !== undefined && !isObject(audio.output))
      return fail('session.audio.output', 'must be an object');
    input = (audio.input as Record<string, unknown> | undefined) ?? {};
    output = (audio.output as Record<string, unknown> | undefined) ?? {};
  }

  const inputFormat = readFormat(input.format ?? beta.inputFormat);
  if (typeof inputFormat === 'string') return fail('session.audio.input.format', inputFormat);
  if (inputFormat) next.inputFormat = inputFormat;
  const outputFormat = readFormat(output.format ?? beta.outputFormat);
  if (typeof outputFormat === 'string') return fail('session.audio.output.format', outputFormat);
  if (outputFormat) next.outputFormat = outputFormat;

  const voice = output.voice ?? beta.voice;
  if (voice !== undefined && voice !== null) {
    if (typeof voice !== 'string' || !(voice in VOICES)) {
      return fail(
        'session.audio.output.voice',
        `must be one of ${Object.keys(VOICES)
          .map((v) => `"${v}"`)
          .join(', ')}; got ${show(voice)}`,
      );
    }
    next.voice = voice;
  }
  const speed = output.speed ?? beta.speed;
  if (speed !== undefined && speed !== null) {
    if (typeof speed !== 'number' || !(speed >= 0.25 && speed <= 1.5)) {
      return fail('session.audio.output.speed', `must be a number from 0.25 to 1.5; got ${show(speed)}`);
    }
    next.speed = speed;
  }

  const transcription = 'transcription' in input ? input.transcription : beta.transcription;
  if (transcription !== undefined) {
    if (transcription !== null && !isObject(transcription)) {
      return fail('session.audio.input.transcription', 'must be an object or null');
    }
    next.transcription = transcription;
  }
  if ('noise_reduction' in input) {
    const noise = input.noise_reduction;
    if (noise !== null && !isObject(noise))
      return fail('session.audio.input.noise_reduction', 'must be an object or null');
    next.noiseReduction = noise ?? null;
  }
  const turnDetection = 'turn_detection' in input ? input.turn_detection : beta.turnDetection;
  if (turnDetection !== undefined) {
    const read = readTurnDetection(turnDetection, current.turnDetection);
    if (typeof read === 'string') return fail('session.audio.input.turn_detection', read);
    next.turnDetection = read;
  }
  Object.assign(next.extra, rest);
  return { ok: true, config: next };
}

/** How the listener decodes a format. */
export function inputEncodingOf(format: OpenAIAudioFormat): {
  encoding: AgentInputEncoding;
  sampleRate: number;
} {
  if (format.type === 'audio/pcmu') return { encoding: 'mulaw', sampleRate: G711_RATE_HZ };
  if (format.type === 'audio/pcma') return { encoding: 'alaw', sampleRate: G711_RATE_HZ };
  return { encoding: 'linear16', sampleRate: format.rate };
}

/** How the agent's speech is encoded for a format. */
export function outputEncodingOf(format: OpenAIAudioFormat): {
  format: AgentAudioFormat;
  sampleRate: number;
} {
  if (format.type === 'audio/pcmu') return { format: 'mulaw', sampleRate: G711_RATE_HZ };
  if (format.type === 'audio/pcma') return { format: 'alaw', sampleRate: G711_RATE_HZ };
  return { format: 'pcm16', sampleRate: format.rate };
}

/** `undefined`: not given; a string: what is wrong with it. */
function readFormat(value: unknown): OpenAIAudioFormat | string | undefined {
  if (value === undefined || value === null) return undefined;
  // The beta named formats by string.
  if (value === 'pcm16') return { type: 'audio/pcm', rate: OPENAI_PCM_RATE_HZ };
  if (value === 'g711_ulaw') return { type: 'audio/pcmu' };
  if (value === 'g711_alaw') return { type: 'audio/pcma' };
  if (!isObject(value))
    return `must be { type: "audio/pcm", rate: 24000 }, { type: "audio/pcmu" } or { type: "audio/pcma" }; got ${show(value)}`;
  if (value.type === 'audio/pcm') {
    if (value.rate !== undefined && value.rate !== OPENAI_PCM_RATE_HZ) {
      return `audio/pcm must be at rate 24000; got ${show(value.rate)}`;
    }
    return { type: 'audio/pcm', rate: OPENAI_PCM_RATE_HZ };
  }
  if (value.type === 'audio/pcmu' || value.type === 'audio/pcma') {
    if (value.rate !== undefined && value.rate !== G711_RATE_HZ)
      return `${value.type} is 8000 Hz; got ${show(value.rate)}`;
    return { type: value.type };
  }
  return `type must be "audio/pcm", "audio/pcmu" or "audio/pcma"; got ${show(value.type)}`;
}

function readTurnDetection(value: unknown, current: TurnDetection | null): TurnDetection | null | string {
  if (value === null) return null;
  if (!isObject(value)) return 'must be an object or null';
  const type = value.type ?? current?.type ?? 'server_vad';
  if (type !== 'server_vad' && type !== 'semantic_vad') {
    return `type must be "server_vad" or "semantic_vad"; got ${show(type)}`;
  }
  for (const flag of ['create_response', 'interrupt_response'] as const) {
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean') return `${flag} must be a boolean`;
  }
  const silence = value.silence_duration_ms;
  if (silence !== undefined && (typeof silence !== 'number' || !(silence >= 50 && silence <= 10_000))) {
    return `silence_duration_ms must be a number of ms from 50 to 10000; got ${show(silence)}`;
  }
  return {
    ...value,
    type,
    create_response: (value.create_response as boolean | undefined) ?? true,
    interrupt_response: (value.interrupt_response as boolean | undefined) ?? true,
  } as TurnDetection;
}

function take(record: Record<string, unknown>, key: string): unknown {
  const value = record[key];
  delete record[key];
  return value;
}

function fail(param: string, problem: string): SessionUpdateResult {
  return { ok: false, param, message: `Invalid value for '${param}': ${problem}.` };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : String(value);
}
