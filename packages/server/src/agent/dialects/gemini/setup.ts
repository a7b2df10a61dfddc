/**
 * Gemini Live's `setup` message on the local agent: the first client message, read field by field
 * as `@google/genai` writes it (`liveConnectConfigToMldev`: camelCase, the model as
 * `models/<name>`). What the agent honours is kept; everything else is accepted and ignored, as
 * the service ignores what a model does not use. A value of the wrong type is refused: the
 * service closes the socket with 1007 and says which field.
 */

/** Model names: an agent id's characters, and dots (`gemini-2.5-flash-native-audio-preview-09-2025`). */
const MODEL_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const MIN_SILENCE_MS = 50;
const MAX_SILENCE_MS = 10_000;

export interface GeminiSetup {
  /** The model without its `models/` prefix: the conversation's agent id. */
  model: string;
  /** `generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`. */
  voiceName: string | undefined;
  /** `inputAudioTranscription` was given: the user's turns are transcribed. */
  inputTranscription: boolean;
  /** `outputAudioTranscription` was given: the agent's speech is transcribed as it plays. */
  outputTranscription: boolean;
  /** `sessionResumption` was given (updates are sent); `handle` resumes a session. */
  resumption: { handle: string | undefined } | undefined;
  /** `realtimeInputConfig.automaticActivityDetection.disabled` is not true. */
  detectActivity: boolean;
  /** `realtimeInputConfig.activityHandling` is not `NO_INTERRUPTION`. */
  interrupt: boolean;
  /** `automaticActivityDetection.silenceDurationMs`, when given. */
  silenceMs: number | undefined;
}

export type SetupResult = { ok: true; setup: GeminiSetup } | { ok: false; message: string };

export function readSetup(value: unknown): SetupResult {
  if (!isObject(value)) return refuse('setup must be an object (BidiGenerateContentSetup).');
  const rawModel = value.model;
  if (typeof rawModel !== 'string' || rawModel.trim() === '')
    return refuse('setup.model is required: "models/<model>".');
  const model = rawModel.replace(/^models\//, '');
  if (!MODEL_PATTERN.test(model)) return refuse(`setup.model "${clip(rawModel)}" is not a model name.`);

  let voiceName: string | undefined;
  const generation = value.generationConfig;
  if (generation !== undefined && generation !== null) {
    if (!isObject(generation)) return refuse('setup.generationConfig must be an object.');
    const modalities = generation.responseModalities;
    if (modalities !== undefined && modalities !== null) {
      if (!Array.isArray(modalities) || modalities.some((m) => typeof m !== 'string'))
        return refuse('setup.generationConfig.responseModalities must be a list of modalities.');
      if (modalities.some((m) => String(m).toUpperCase() !== 'AUDIO'))
        return refuse(
          'setup.generationConfig.responseModalities: the local agent answers in speech only (["AUDIO"]).',
        );
    }
    const speech = generation.speechConfig;
    if (speech !== undefined && speech !== null) {
      if (!isObject(speech)) return refuse('setup.generationConfig.speechConfig must be an object.');
      const voiceConfig = speech.voiceConfig;
      const prebuilt = isObject(voiceConfig) ? voiceConfig.prebuiltVoiceConfig : undefined;
      const name = isObject(prebuilt) ? prebuilt.voiceName : undefined;
      if (name !== undefined && typeof name !== 'string')
        return refuse(
          'setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName must be a string.',
        );
      voiceName = name;
    }
  }
  for (const field of ['inputAudioTranscription', 'outputAudioTranscription', 'sessionResumption'] as const) {
    const given = value[field];
    if (given !== undefined && given !== null && !isObject(given))
      return refuse(`setup.${field} must be an object.`);
  }
  let resumption: GeminiSetup['resumption'];
  if (isObject(value.sessionResumption)) {
    const handle = value.sessionResumption.handle;
    if (handle !== undefined && handle !== null && typeof handle !== 'string')
      return refuse('setup.sessionResumption.handle must be a string.');
    resumption = { handle: handle === null || handle === '' ? undefined : handle };
  }

  let detectActivity = true;
  let interrupt = true;
  let silenceMs: number | undefined;
  const realtime = value.realtimeInputConfig;
  if (realtime !== undefined && realtime !== null) {
    if (!isObject(realtime)) return refuse('setup.realtimeInputConfig must be an object.');
    const detection = realtime.automaticActivityDetection;
    if (detection !== undefined && detection !== null) {
      if (!isObject(detection))
        return refuse('setup.realtimeInputConfig.automaticActivityDetection must be an object.');
      if (detection.disabled !== undefined && typeof detection.disabled !== 'boolean')
        return refuse('setup.realtimeInputConfig.automaticActivityDetection.disabled must be a boolean.');
      detectActivity = detection.disabled !== true;
      const silence = detection.silenceDurationMs;
      if (silence !== undefined && silence !== null) {
        if (typeof silence !== 'number' || !Number.isFinite(silence) || silence < 0)
          return refuse(
            'setup.realtimeInputConfig.automaticActivityDetection.silenceDurationMs must be a number of milliseconds.',
          );
        silenceMs = Math.min(MAX_SILENCE_MS, Math.max(MIN_SILENCE_MS, Math.round(silence)));
      }
    }
    const handling = realtime.activityHandling;
    if (handling !== undefined && handling !== null) {
      if (
        handling !== 'ACTIVITY_HANDLING_UNSPECIFIED' &&
        handling !== 'START_OF_ACTIVITY_INTERRUPTS' &&
        handling !== 'NO_INTERRUPTION'
      )
        return refuse(
          `setup.realtimeInputConfig.activityHandling: unknown value "${clip(String(handling))}".`,
        );
      interrupt = handling !== 'NO_INTERRUPTION';
    }
  }
  return {
    ok: true,
    setup: {
      model,
      voiceName,
      inputTranscription: isObject(value.inputAudioTranscription),
      outputTranscription: isObject(value.outputAudioTranscription),
      resumption,
      detectActivity,
      interrupt,
      silenceMs,
    },
  };
}

/**
 * The audio rate a `realtimeInput` blob's `mimeType` names: `audio/pcm;rate=16000` (the rate is
 * 16000 when absent); `undefined` for anything but 16-bit PCM.
 */
export function pcmRateOf(mimeType: unknown): number | undefined {
  if (mimeType === undefined || mimeType === null) return 16_000;
  if (typeof mimeType !== 'string') return undefined;
  const match = /^audio\/(?:pcm|l16)(?:\s*;\s*rate=(\d{4,6}))?\s*$/i.exec(mimeType.trim());
  if (!match) return undefined;
  return match[1] ? Number(match[1]) : 16_000;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(message: string): SetupResult {
  return { ok: false, message: `Invalid setup: ${message}` };
}

export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
