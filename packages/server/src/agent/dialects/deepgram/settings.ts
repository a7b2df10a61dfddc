/**
 * Deepgram's `Settings` message on the local agent: the audio both ways (`audio.input`,
 * `audio.output`, snake_case as `@deepgram/sdk` sends them) and the agent block (`greeting`,
 * `speak`, `think`, `listen`). What the agent can honour is kept, the rest accepted; an audio
 * format it cannot serve is refused with what it can.
 */
import type { AgentAudioFormat, AgentInputEncoding } from '../../../audio/index.ts';
import { mespeakVoiceFor } from '../../voices.ts';

/** Deepgram's defaults when `audio.input` / `audio.output` leave a field out. */
const DEFAULT_RATE_HZ = 24_000;
const MIN_RATE_HZ = 8_000;
const MAX_RATE_HZ = 96_000;

export interface DeepgramSettings {
  input: { encoding: AgentInputEncoding; sampleRate: number | undefined; label: string };
  output: { format: AgentAudioFormat; sampleRate: number; label: string };
  /** `agent.greeting`; `undefined` when not given. */
  greeting: string | undefined;
  /** The voice `agent.speak` names (a Deepgram model such as `aura-2-thalia-en`), as mespeak speaks it. */
  voice: string | undefined;
  /** The name, for the log. */
  speakModel: string | undefined;
}

export type SettingsResult = { ok: true; settings: DeepgramSettings } | { ok: false; message: string };

export function readSettings(message: Record<string, unknown>): SettingsResult {
  const audio = message.audio ?? {};
  if (!isObject(audio)) return refuse('audio must be an object { input, output }.');
  const input = readInput(audio.input ?? {});
  if (typeof input === 'string') return refuse(input);
  const output = readOutput(audio.output ?? {});
  if (typeof output === 'string') return refuse(output);
  const agent = message.agent ?? {};
  if (!isObject(agent)) return refuse('agent must be an object { listen, think, speak, greeting }.');
  const greeting = agent.greeting;
  if (greeting !== undefined && greeting !== null && typeof greeting !== 'string')
    return refuse('agent.greeting must be a string.');
  const speak = readSpeak(agent.speak);
  if (speak === false) return refuse('agent.speak must be an object { provider } or a list of them.');
  return {
    ok: true,
    settings: {
      input,
      output,
      greeting: typeof greeting === 'string' ? greeting : undefined,
      voice: mespeakVoiceFor(speak),
      speakModel: speak,
    },
  };
}

/**
 * The voice an `agent.speak` block names: the first provider's `model` (Deepgram's Aura voices)
 * or its `voice_id` / `voice`; `false` when the block is malformed.
 */
export function readSpeak(speak: unknown): string | undefined | false {
  if (speak === undefined || speak === null) return undefined;
  const first = Array.isArray(speak) ? speak[0] : speak;
  if (first === undefined) return undefined;
  if (!isObject(first)) return false;
  const provider = first.provider;
  if (provider === undefined) return undefined;
  if (!isObject(provider)) return false;
  for (const field of ['model', 'voice_id', 'voice']) {
    if (typeof provider[field] === 'string') return provider[field] as string;
  }
  return undefined;
}

function readInput(input: unknown): DeepgramSettings['input'] | string {
  if (!isObject(input)) return 'audio.input must be an object { encoding, sample_rate }.';
  const encoding = input.encoding ?? 'linear16';
  if (encoding === 'ogg-opus')
    return { encoding: 'media-container', sampleRate: undefined, label: 'ogg-opus' };
  if (encoding !== 'linear16' && encoding !== 'mulaw' && encoding !== 'alaw') {
    return `audio.input.encoding "${clip(String(encoding))}" is not one the local agent decodes: linear16, mulaw, alaw or ogg-opus.`;
  }
  const rate = readRate(input.sample_rate, 'audio.input.sample_rate');
  if (typeof rate === 'string') return rate;
  return { encoding, sampleRate: rate, label: `${encoding}@${rate}` };
}

function readOutput(output: unknown): DeepgramSettings['output'] | string {
  if (!isObject(output)) return 'audio.output must be an object { encoding, sample_rate, container }.';
  const encoding = output.encoding ?? 'linear16';
  const container = output.container ?? 'none';
  if (container !== 'none' && container !== 'wav')
    return `audio.output.container "${clip(String(container))}": the local agent sends none or wav.`;
  const rate = readRate(output.sample_rate, 'audio.output.sample_rate');
  if (typeof rate === 'string') return rate;
  const label = `${String(encoding)}@${rate}${container === 'wav' ? '/wav' : ''}`;
  if (encoding === 'linear16')
    return { format: container === 'wav' ? 'wav' : 'pcm16', sampleRate: rate, label };
  if (container === 'wav') return 'audio.output.container "wav" goes with linear16 only.';
  if (encoding === 'mulaw' || encoding === 'alaw' || encoding === 'mp3' || encoding === 'flac')
    return { format: encoding, sampleRate: rate, label };
  return `audio.output.encoding "${clip(String(encoding))}" is not one the local agent encodes: linear16, mulaw, alaw, mp3 or flac.`;
}

function readRate(value: unknown, name: string): number | string {
  if (value === undefined || value === null) return DEFAULT_RATE_HZ;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_RATE_HZ || value > MAX_RATE_HZ)
    return `${name} must be a whole number of Hz from ${MIN_RATE_HZ} to ${MAX_RATE_HZ}.`;
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function refuse(message: string): SettingsResult {
  return { ok: false, message: `Invalid Settings: ${message}` };
}
