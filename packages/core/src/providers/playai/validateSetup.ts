import { describeType } from '../parseJson.ts';
import {
  HEADERLESS_INPUT_ENCODINGS,
  INPUT_ENCODINGS,
  type InputEncoding,
  MAX_SAMPLE_RATE_HZ,
  MIN_SAMPLE_RATE_HZ,
  OUTPUT_FORMATS,
  type OutputFormat,
  SETUP_DEFAULTS,
  type SetupMessage,
} from './messages.ts';

/** A setup with the protocol's defaults filled in: what the session actually uses. */
export interface ResolvedSetup {
  apiKey?: string;
  outputFormat: OutputFormat;
  /** Hz. */
  outputSampleRate: number;
  inputEncoding: InputEncoding;
  /** Hz; always present for headerless encodings. */
  inputSampleRate?: number;
  customGreeting?: string;
  prompt?: string;
  continueConversation?: string;
}

export type ValidateSetupResult =
  | { ok: true; setup: ResolvedSetup }
  | {
      ok: false;
      /** The protocol's "invalid parameters" code, which is what the server answers with. */
      code: 4400;
      /** Says exactly what is wrong and what would be accepted. */
      message: string;
      /** The offending field, when one field is to blame. */
      field?: string;
    };

/** Whether `encoding` carries no header, so the server must be told its sample rate. */
export function isHeaderlessEncoding(encoding: string): boolean {
  return (HEADERLESS_INPUT_ENCODINGS as readonly string[]).includes(encoding);
}

const STRING_FIELDS = ['apiKey', 'customGreeting', 'prompt', 'continueConversation'] as const;

/**
 * Check a `setup` message against the table of docs/protocol.md ("setup") and fill in its defaults (`mp3`, 44100 Hz,
 * `media-container`). Used by the local agent to answer a bad setup with 4400, and by the client
 * to refuse bad options before a socket is even opened. Never throws.
 *
 * `null` counts as absent (JSON has no `undefined`). Unknown extra fields are ignored so that a
 * newer client still works with this server. The API key's presence is not checked here: a
 * browser behind a relay sends none, and the server answers a missing key with its own code.
 */
export function validateSetup(message: unknown): ValidateSetupResult {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return fail(`setup must be a JSON object, got ${describeType(message)}`);
  }
  const m = message as Record<string, unknown>;
  if (m.type !== 'setup') {
    return fail(
      typeof m.type === 'string'
        ? `the first message must be of type "setup", got "${truncate(m.type)}"`
        : 'the first message must be of type "setup"',
      'type',
    );
  }
  const present = (field: string) => m[field] !== undefined && m[field] !== null;

  for (const field of STRING_FIELDS) {
    if (present(field) && typeof m[field] !== 'string') {
      return fail(`"${field}" must be a string, got ${describeType(m[field])}`, field);
    }
  }
  if (present('continueConversation') && m.continueConversation === '') {
    return fail(
      '"continueConversation" must be a conversation id from an earlier "init", not empty',
      'continueConversation',
    );
  }

  let outputFormat: OutputFormat = SETUP_DEFAULTS.outputFormat;
  if (present('outputFormat')) {
    const value = m.outputFormat;
    if (typeof value !== 'string' || !(OUTPUT_FORMATS as readonly string[]).includes(value)) {
      return fail(
        `"outputFormat" must be one of ${OUTPUT_FORMATS.map((f) => `"${f}"`).join(', ')}; got ${quoteOrType(value)}`,
        'outputFormat',
      );
    }
    outputFormat = value as OutputFormat;
  }

  let outputSampleRate: number = SETUP_DEFAULTS.outputSampleRate;
  if (present('outputSampleRate')) {
    const error = checkRate(m.outputSampleRate, 'outputSampleRate');
    if (error) return fail(error, 'outputSampleRate');
    outputSampleRate = m.outputSampleRate as number;
  }

  let inputEncoding: InputEncoding = SETUP_DEFAULTS.inputEncoding;
  if (present('inputEncoding')) {
    const value = m.inputEncoding;
    if (typeof value !== 'string' || !(INPUT_ENCODINGS as readonly string[]).includes(value)) {
      return fail(
        `"inputEncoding" must be "media-container" or one of the headerless encodings ${HEADERLESS_INPUT_ENCODINGS.map((f) => `"${f}"`).join(', ')}; got ${quoteOrType(value)}`,
        'inputEncoding',
      );
    }
    inputEncoding = value as InputEncoding;
  }

  let inputSampleRate: number | undefined;
  if (present('inputSampleRate')) {
    const error = checkRate(m.inputSampleRate, 'inputSampleRate');
    if (error) return fail(error, 'inputSampleRate');
    inputSampleRate = m.inputSampleRate as number;
  } else if (isHeaderlessEncoding(inputEncoding)) {
    return fail(
      `"inputSampleRate" is required when "inputEncoding" is "${inputEncoding}" (a headerless encoding carries no rate); give an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz`,
      'inputSampleRate',
    );
  }

  const setup: ResolvedSetup = { outputFormat, outputSampleRate, inputEncoding };
  if (inputSampleRate !== undefined) setup.inputSampleRate = inputSampleRate;
  for (const field of STRING_FIELDS) {
    if (present(field)) setup[field] = m[field] as string;
  }
  return { ok: true, setup };
}

/** Options for {@link createSetupMessage}: every setup field but `type`. */
export type SetupOptions = Omit<SetupMessage, 'type'>;

/**
 * Build a `setup` message, leaving out fields that are `undefined` so the server applies its
 * own defaults (and the JSON on the wire stays minimal). Does not validate: pair it with
 * {@link validateSetup} to check the options first.
 */
export function createSetupMessage(options: SetupOptions = {}): SetupMessage {
  const message: SetupMessage = { type: 'setup' };
  const fields = [
    'apiKey',
    'outputFormat',
    'outputSampleRate',
    'inputEncoding',
    'inputSampleRate',
    'customGreeting',
    'prompt',
    'continueConversation',
  ] as const satisfies readonly (keyof SetupOptions)[];
  for (const field of fields) {
    const value = options[field];
    if (value !== undefined) (message as unknown as Record<string, unknown>)[field] = value;
  }
  return message;
}

function checkRate(value: unknown, field: string): string | undefined {
  const range = `an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz`;
  if (typeof value !== 'number') return `"${field}" must be ${range}, got ${describeType(value)}`;
  if (!Number.isInteger(value)) return `"${field}" must be ${range}, got ${value}`;
  if (value < MIN_SAMPLE_RATE_HZ || value > MAX_SAMPLE_RATE_HZ) {
    return `"${field}" ${value} Hz is out of range: must be ${range}`;
  }
  return undefined;
}

function fail(message: string, field?: string): ValidateSetupResult {
  return field === undefined ? { ok: false, code: 4400, message } : { ok: false, code: 4400, message, field };
}

function quoteOrType(value: unknown): string {
  return typeof value === 'string' ? `"${truncate(value)}"` : describeType(value);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
