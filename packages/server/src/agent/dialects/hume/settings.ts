/**
 * Hume EVI's session settings on the local agent: the `session_settings` message, and the same
 * settings in the socket URL's query, which `hume`'s `chat.connect({ sessionSettings })` writes
 * as bracketed parameters (`session_settings[audio][sample_rate]=16000`; a JSON value is read
 * too). Honoured: `audio` (linear16, its rate, one channel), `voice_id`, `system_prompt` (kept),
 * `custom_session_id` (echoed in every message, as the service does); the rest is accepted.
 */

const MIN_RATE_HZ = 8_000;
const MAX_RATE_HZ = 96_000;
/** Bracketed query values are strings: these are numbers. */
const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['sample_rate', 'channels', 'event_limit']);

export interface HumeSettings {
  /** Linear16 input at this rate; without it the client sends a recorder's container (WebM, Ogg, WAV). */
  sampleRate?: number;
  voiceId?: string;
  systemPrompt?: string;
  customSessionId?: string;
}

export type SettingsResult = { ok: true; settings: HumeSettings } | { ok: false; message: string };

export function readSettings(value: Record<string, unknown>): SettingsResult {
  const settings: HumeSettings = {};
  const audio = value.audio;
  if (audio !== undefined && audio !== null) {
    if (!isObject(audio)) return refuse('audio must be an object { encoding, sample_rate, channels }.');
    if (audio.encoding !== undefined && audio.encoding !== 'linear16')
      return refuse(`audio.encoding "${clip(String(audio.encoding))}": the only encoding is linear16.`);
    const rate = audio.sample_rate;
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < MIN_RATE_HZ || rate > MAX_RATE_HZ)
      return refuse(`audio.sample_rate must be a whole number of Hz from ${MIN_RATE_HZ} to ${MAX_RATE_HZ}.`);
    const channels = audio.channels ?? 1;
    if (channels !== 1) return refuse('audio.channels: the local agent takes mono audio (1).');
    settings.sampleRate = rate;
  }
  for (const [field, key] of [
    ['voice_id', 'voiceId'],
    ['system_prompt', 'systemPrompt'],
    ['custom_session_id', 'customSessionId'],
  ] as const) {
    const given = value[field];
    if (given === undefined || given === null) continue;
    if (typeof given !== 'string') return refuse(`${field} must be a string.`);
    settings[key] = given;
  }
  return { ok: true, settings };
}

/**
 * The settings a socket URL carries: `session_settings` as JSON, or as the bracketed parameters
 * the SDK writes. `undefined` when there are none.
 */
export function settingsFromQuery(params: URLSearchParams): Record<string, unknown> | string | undefined {
  const json = params.get('session_settings');
  if (json !== null) {
    try {
      const parsed = JSON.parse(json) as unknown;
      return isObject(parsed) ? parsed : 'session_settings must be a JSON object.';
    } catch {
      return 'session_settings is not valid JSON.';
    }
  }
  let found: Record<string, unknown> | undefined;
  for (const [name, raw] of params) {
    if (!name.startsWith('session_settings[')) continue;
    const path = [...name.slice('session_settings'.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
    if (path.length === 0 || path.some((key) => key === '' || key === '__proto__')) continue;
    found ??= {};
    let node = found;
    for (const key of path.slice(0, -1)) {
      if (!isObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    node[last] = NUMERIC_FIELDS.has(last) && /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return found;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function refuse(message: string): SettingsResult {
  return { ok: false, message: `Invalid session settings: ${message}` };
}
