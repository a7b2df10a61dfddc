/**
 * What the relay reads of each vendor's messages, and no more: which client messages are audio
 * (for the rate cap) and in which format, PlayAI's `setup` (the key goes in), Gemini's first
 * message (the model a token is bound to), ElevenLabs' first server message (the input format),
 * and how the vendor words an error. Everything else passes through unread.
 *
 * The hot path is the audio frame: each dialect recognises the form a client's `JSON.stringify`
 * produces by its first and last bytes and sizes the base64 from its length, without parsing or
 * decoding (Deepgram's audio is binary: its length is its size). Any other text frame is parsed,
 * so an audio message spelt another way is still counted.
 */
import {
  type AudioRateLimiter,
  base64DecodedBytes,
  MEDIA_CONTAINER_BYTES_PER_SECOND,
  pcmBytesPerSecond,
  realTimeBytesPerSecond,
} from './audioRate.ts';
import type { RelayProviderName } from './providers.ts';

/** The part of a session the dialects keep their audio accounting in. */
export interface AudioAccount {
  limiter: AudioRateLimiter;
  /** Bytes per second of real-time audio in the client's current format. */
  realTimeRate: number;
  /** Gemini: the last audio frame's tail (its mimeType), so an unchanged format is not re-read. */
  audioTail: Buffer | null;
}

export interface RelayDialect {
  /** Real-time bytes per second before the client (or the vendor) names the input format. */
  initialRate: number;
  /** Client binary frames are audio (Deepgram) and count against the cap; otherwise they pass uncounted. */
  binaryIsAudio: boolean;
  /** Decoded audio bytes of a text frame recognised by its bytes alone, or -1 (it is then parsed). */
  audioBytes(data: Buffer, account: AudioAccount): number;
  /** A parsed client message: the audio bytes it carries (0 if none), after learning the format from it. */
  inspect(fields: Record<string, unknown>, account: AudioAccount): number;
  /** PlayAI: the message to send instead (a `setup` with the real key), or null to send it as is. */
  rewrite?(fields: Record<string, unknown>, apiKey: string): Buffer | null;
  /** Gemini: the target the first client message names (its `setup.model`). */
  firstMessageTarget?(fields: Record<string, unknown>): string | undefined;
  /** Normalises a target for comparison (Gemini: `models/x` and `x` are the same model). */
  sameTarget?(a: string, b: string): boolean;
  /** ElevenLabs: the first server message, which names the input format. */
  firstUpstream?(data: Buffer, account: AudioAccount): void;
  /** Hume: the format given in the browser's query (`session_settings`). */
  fromQuery?(url: URL, account: AudioAccount): void;
  /** The vendor's own error message for a relay refusal or failure; null where the close code and reason say it all. */
  errorFrame(code: number, message: string, fatal: boolean): string | null;
}

const EQUALS = 0x3d;
const QUOTE = 0x22;

/** Sets the real-time rate (only when it changes: the bucket keeps its fill ratio across a change). */
export function setRate(account: AudioAccount, bytesPerSecond: number): void {
  if (bytesPerSecond === account.realTimeRate) return;
  account.realTimeRate = bytesPerSecond;
  account.limiter.setRealTimeRate(bytesPerSecond);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function base64Bytes(b64: string): number {
  return base64DecodedBytes(b64.length, b64.endsWith('=='), b64.endsWith('='));
}

/** The base64 between `end - length` and `end` of `data`, sized. */
function base64SpanBytes(data: Buffer, start: number, end: number): number {
  return base64DecodedBytes(
    end - start,
    data[end - 1] === EQUALS && data[end - 2] === EQUALS,
    data[end - 1] === EQUALS,
  );
}

/** `data` holds `bytes` at `at`. A plain loop: for these few bytes, cheaper than a call into `Buffer.compare`. */
function holds(data: Buffer, bytes: Buffer, at: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
  return true;
}

/** A frame that is exactly `prefix` + base64 + `suffix`: the base64's decoded size, else -1. */
function wrappedBytes(data: Buffer, prefix: Buffer, suffix: Buffer): number {
  const end = data.length - suffix.length;
  if (end < prefix.length || !holds(data, suffix, end) || !holds(data, prefix, 0)) return -1;
  return base64SpanBytes(data, prefix.length, end);
}

/** The vendors' error codes for the relay's own close codes. */
function slug(code: number): string {
  switch (code) {
    case 4400:
      return 'relay_bad_request';
    case 4401:
      return 'relay_unauthorized';
    case 4429:
      return 'relay_too_many_sessions';
    case 4500:
      return 'relay_upstream_unreachable';
    default:
      return 'relay_unavailable';
  }
}

// PlayAI: `{"type":"audioIn","data":"…"}`; `setup` names the input format and gets the key.
const AUDIO_IN_PREFIX = Buffer.from('{"type":"audioIn","data":"');
const CLOSE_OBJECT = Buffer.from('"}');
const playai: RelayDialect = {
  initialRate: realTimeBytesPerSecond(undefined, undefined),
  binaryIsAudio: false,
  audioBytes: (data) => wrappedBytes(data, AUDIO_IN_PREFIX, CLOSE_OBJECT),
  inspect(fields, account) {
    if (fields.type === 'setup') {
      setRate(account, realTimeBytesPerSecond(fields.inputEncoding, fields.inputSampleRate));
      return 0;
    }
    return fields.type === 'audioIn' && typeof fields.data === 'string' ? base64Bytes(fields.data) : 0;
  },
  // Whatever the browser put there is replaced: the browser never holds the real key.
  rewrite: (fields, apiKey) =>
    fields.type === 'setup' ? Buffer.from(JSON.stringify({ ...fields, apiKey })) : null,
  errorFrame: (code, message, fatal) => JSON.stringify({ type: 'error', code, message, isFatal: fatal }),
};

// OpenAI Realtime: `input_audio_buffer.append { audio }`; `session.update` names the format
// (GA `session.audio.input.format { type, rate }`, beta `session.input_audio_format`).
const APPEND_PREFIX = Buffer.from('{"type":"input_audio_buffer.append","audio":"');
function openaiInputRate(session: Record<string, unknown>): number | undefined {
  const audio = session.audio;
  const input = isObject(audio) ? audio.input : undefined;
  const format = isObject(input) ? input.format : undefined;
  if (isObject(format)) {
    if (format.type === 'audio/pcm') return pcmBytesPerSecond(2, format.rate, 24_000);
    if (format.type === 'audio/pcmu' || format.type === 'audio/pcma') return 8000;
    return undefined;
  }
  const legacy = session.input_audio_format;
  if (legacy === 'pcm16') return 48_000;
  if (legacy === 'g711_ulaw' || legacy === 'g711_alaw') return 8000;
  return undefined;
}
const openai: RelayDialect = {
  initialRate: pcmBytesPerSecond(2, 24_000, 24_000),
  binaryIsAudio: false,
  audioBytes: (data) => wrappedBytes(data, APPEND_PREFIX, CLOSE_OBJECT),
  inspect(fields, account) {
    if (fields.type === 'input_audio_buffer.append')
      return typeof fields.audio === 'string' ? base64Bytes(fields.audio) : 0;
    if (fields.type === 'session.update' && isObject(fields.session)) {
      const rate = openaiInputRate(fields.session);
      if (rate !== undefined) setRate(account, rate);
    }
    return 0;
  },
  errorFrame: (code, message) =>
    JSON.stringify({
      type: 'error',
      event_id: `relay_${code}`,
      error: { type: 'relay_error', code: slug(code), message, param: null, event_id: null },
    }),
};

// ElevenLabs: `{"user_audio_chunk":"…"}` in the format the server's first message announces.
const USER_AUDIO_PREFIX = Buffer.from('{"user_audio_chunk":"');
function elevenlabsFormatRate(format: unknown): number | undefined {
  const match = typeof format === 'string' ? /^(pcm|ulaw|alaw)_(\d+)$/.exec(format) : null;
  if (!match) return undefined;
  return pcmBytesPerSecond(match[1] === 'pcm' ? 2 : 1, Number(match[2]), 16_000);
}
const elevenlabs: RelayDialect = {
  initialRate: pcmBytesPerSecond(2, 16_000, 16_000),
  binaryIsAudio: false,
  audioBytes: (data) => wrappedBytes(data, USER_AUDIO_PREFIX, CLOSE_OBJECT),
  inspect: (fields) =>
    typeof fields.user_audio_chunk === 'string' ? base64Bytes(fields.user_audio_chunk) : 0,
  firstUpstream(data, account) {
    try {
      const fields: unknown = JSON.parse(data.toString('utf8'));
      const event = isObject(fields) ? fields.conversation_initiation_metadata_event : undefined;
      const rate = isObject(event) ? elevenlabsFormatRate(event.user_input_audio_format) : undefined;
      if (rate !== undefined) setRate(account, rate);
    } catch {
      // Not JSON: the vendor's client will say so; the default format stays.
    }
  },
  // The client's first message must be the session metadata; the close reason carries the error.
  errorFrame: () => null,
};

// Gemini Live: `{"realtimeInput":{"audio":{"data":"…","mimeType":"audio/pcm;rate=16000"}}}`:
// each frame names its own rate. The first message is `setup { model }`.
const REALTIME_AUDIO_PREFIX = Buffer.from('{"realtimeInput":{"audio":{"data":"');
const REALTIME_AUDIO_TAIL = /^"(?:,"mimeType":"audio\/pcm(?:;\s*rate=(\d+))?")?\}\}\}$/;
/** A tail longer than any mimeType this matches: the frame is parsed instead. */
const MAX_TAIL_BYTES = 96;
function geminiMimeRate(mimeType: unknown): number {
  if (typeof mimeType !== 'string') return pcmBytesPerSecond(2, 16_000, 16_000);
  const match = /^audio\/pcm(?:;\s*rate=(\d+))?/.exec(mimeType);
  return match
    ? pcmBytesPerSecond(2, match[1] ? Number(match[1]) : 16_000, 16_000)
    : MEDIA_CONTAINER_BYTES_PER_SECOND;
}
const stripModels = (model: string) => (model.startsWith('models/') ? model.slice(7) : model);
const gemini: RelayDialect = {
  initialRate: pcmBytesPerSecond(2, 16_000, 16_000),
  binaryIsAudio: false,
  audioBytes(data, account) {
    const p = REALTIME_AUDIO_PREFIX.length;
    if (data.length < p + 4 || !holds(data, REALTIME_AUDIO_PREFIX, 0)) return -1;
    const end = data.indexOf(QUOTE, p);
    if (end < 0 || data.length - end > MAX_TAIL_BYTES) return -1;
    const known = account.audioTail;
    if (known === null || known.length !== data.length - end || !holds(data, known, end)) {
      const match = REALTIME_AUDIO_TAIL.exec(data.toString('latin1', end));
      if (!match) return -1;
      setRate(account, pcmBytesPerSecond(2, match[1] ? Number(match[1]) : 16_000, 16_000));
      account.audioTail = Buffer.from(data.subarray(end));
    }
    return base64SpanBytes(data, p, end);
  },
  inspect(fields, account) {
    const input = fields.realtimeInput;
    if (!isObject(input)) return 0;
    account.audioTail = null;
    let bytes = 0;
    if (isObject(input.audio) && typeof input.audio.data === 'string') {
      setRate(account, geminiMimeRate(input.audio.mimeType));
      bytes += base64Bytes(input.audio.data);
    }
    // The older form: `mediaChunks`, audio among images.
    if (Array.isArray(input.mediaChunks)) {
      for (const chunk of input.mediaChunks) {
        if (!isObject(chunk) || typeof chunk.data !== 'string') continue;
        if (typeof chunk.mimeType !== 'string' || !chunk.mimeType.startsWith('audio/')) continue;
        setRate(account, geminiMimeRate(chunk.mimeType));
        bytes += base64Bytes(chunk.data);
      }
    }
    return bytes;
  },
  firstMessageTarget(fields) {
    const setup = fields.setup;
    return isObject(setup) && typeof setup.model === 'string' ? setup.model : undefined;
  },
  sameTarget: (a, b) => stripModels(a) === stripModels(b),
  // Gemini has no error message: errors are close codes with a reason.
  errorFrame: () => null,
};

// Deepgram Voice Agent: audio is binary, in the encoding `Settings.audio.input` names.
const deepgram: RelayDialect = {
  initialRate: MEDIA_CONTAINER_BYTES_PER_SECOND,
  binaryIsAudio: true,
  audioBytes: () => -1,
  inspect(fields, account) {
    if (fields.type !== 'Settings' || !isObject(fields.audio) || !isObject(fields.audio.input)) return 0;
    const { encoding, sample_rate } = fields.audio.input;
    const bytesPerSample = encoding === 'mulaw' || encoding === 'alaw' ? 1 : 2;
    setRate(account, pcmBytesPerSecond(bytesPerSample, sample_rate, 16_000));
    return 0;
  },
  errorFrame: (code, message) => JSON.stringify({ type: 'Error', description: message, code: slug(code) }),
};

// Hume EVI: `audio_input { data }`; `session_settings.audio` (a message, or the query) names
// linear16 and its rate; without it the browser records a media container (webm).
const AUDIO_INPUT_PREFIX = Buffer.from('{"type":"audio_input","data":"');
const DATA_PREFIX = Buffer.from('{"data":"');
const AUDIO_INPUT_SUFFIX = Buffer.from('","type":"audio_input"}');
function humeSettingsRate(settings: unknown): number | undefined {
  if (!isObject(settings) || !isObject(settings.audio)) return undefined;
  const { encoding, sample_rate, channels } = settings.audio;
  return encoding === 'linear16' ? pcmBytesPerSecond(2, sample_rate, 16_000, channels) : undefined;
}
const hume: RelayDialect = {
  initialRate: MEDIA_CONTAINER_BYTES_PER_SECOND,
  binaryIsAudio: false,
  audioBytes(data) {
    const bytes = wrappedBytes(data, AUDIO_INPUT_PREFIX, CLOSE_OBJECT);
    // Hume's own serializer writes the fields in its schema's order: data first.
    return bytes >= 0 ? bytes : wrappedBytes(data, DATA_PREFIX, AUDIO_INPUT_SUFFIX);
  },
  inspect(fields, account) {
    if (fields.type === 'audio_input') return typeof fields.data === 'string' ? base64Bytes(fields.data) : 0;
    if (fields.type === 'session_settings') {
      const rate = humeSettingsRate(fields);
      if (rate !== undefined) setRate(account, rate);
    }
    return 0;
  },
  fromQuery(url, account) {
    const settings = url.searchParams.get('session_settings');
    if (!settings) return;
    try {
      const rate = humeSettingsRate(JSON.parse(settings));
      if (rate !== undefined) setRate(account, rate);
    } catch {
      // Hume refuses malformed settings itself.
    }
  },
  errorFrame: (code, message) =>
    JSON.stringify({ type: 'error', code: String(code), slug: slug(code), message }),
};

export const DIALECTS: Record<RelayProviderName, RelayDialect> = {
  playai,
  openai,
  elevenlabs,
  gemini,
  deepgram,
  hume,
};
