import { OUTPUT_FORMATS, type OutputFormat } from '@voicewire/core/playai';
import type { CaptureEncoding, ConversationOptions } from '@voicewire/react';

/**
 * Everything the settings panel edits. Each field is also a URL query parameter of the same
 * name, so a link (or an end-to-end test) can open the page already configured.
 */
export interface DemoSettings {
  /** Base URL, like the library's `url`: the page connects to `<server>/<agentId>`. */
  server: string;
  agentId: string;
  /** For prototypes and the local agent only: in production a relay holds the key. */
  apiKey: string;
  /** A relay session token (the production path); sent instead of the key when set. */
  token: string;
  /**
   * Where to fetch a fresh token before each connection (`GET <endpoint>?agentId=` answering
   * `{ "token": "…" }`): in production, the site's own backend; locally, the relay's
   * `--dev-token-endpoint`. Takes precedence over `token`.
   */
  tokenEndpoint: string;
  inputEncoding: CaptureEncoding;
  inputSampleRate: number;
  /** '' = the library's default. */
  outputFormat: OutputFormat | '';
  /** 0 = the library's default. */
  outputSampleRate: number;
  greeting: string;
  prompt: string;
}

export const SETTING_KEYS = [
  'server',
  'agentId',
  'apiKey',
  'token',
  'tokenEndpoint',
  'inputEncoding',
  'inputSampleRate',
  'outputFormat',
  'outputSampleRate',
  'greeting',
  'prompt',
] as const satisfies readonly (keyof DemoSettings)[];

export const INPUT_ENCODING_CHOICES: readonly CaptureEncoding[] = ['linear16', 'mulaw'];
export const INPUT_RATE_CHOICES: readonly number[] = [8000, 16000, 24000, 48000];
export const OUTPUT_RATE_CHOICES: readonly number[] = [8000, 16000, 22050, 24000, 44100, 48000];

const STORAGE_KEY = 'voicewire-demo:settings';
export const LOCAL_AGENT_PORT = 8787;

/**
 * The local agent on the same host as the page, so the demo works with no settings to fill in
 * (`npm run demo` starts both). `VITE_VOICEWIRE_SERVER` lets the demo script point elsewhere.
 */
export function defaultServer(location: Pick<Location, 'protocol' | 'hostname'> | undefined): string {
  const fromEnv = import.meta.env?.VITE_VOICEWIRE_SERVER as string | undefined;
  if (fromEnv) return fromEnv;
  // A page on https may not open ws:// (mixed content).
  const scheme = location?.protocol === 'https:' ? 'wss' : 'ws';
  const host = location?.hostname || '127.0.0.1';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${LOCAL_AGENT_PORT}/v1/talk`;
}

export function defaultSettings(location?: Pick<Location, 'protocol' | 'hostname'>): DemoSettings {
  return {
    server: defaultServer(location),
    agentId: 'demo-agent',
    apiKey: 'local-dev-key',
    token: '',
    tokenEndpoint: '',
    inputEncoding: 'linear16',
    inputSampleRate: 16000,
    outputFormat: '',
    outputSampleRate: 0,
    greeting: '',
    prompt: '',
  };
}

function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

function toRate(value: unknown): number | null {
  const rate = Number(value);
  return Number.isInteger(rate) && rate >= 0 && rate <= 192_000 ? rate : null;
}

/**
 * Reads a partial record (from localStorage or the query), keeping only well-formed values so a
 * stale or hand-edited entry can never break the page.
 */
export function sanitize(raw: Record<string, unknown>): Partial<DemoSettings> {
  const out: Partial<DemoSettings> = {};
  for (const key of [
    'server',
    'agentId',
    'apiKey',
    'token',
    'tokenEndpoint',
    'greeting',
    'prompt',
  ] as const) {
    if (typeof raw[key] === 'string') out[key] = raw[key];
  }
  if (raw.inputEncoding === 'linear16' || raw.inputEncoding === 'mulaw')
    out.inputEncoding = raw.inputEncoding;
  if (typeof raw.outputFormat === 'string' && (raw.outputFormat === '' || isOutputFormat(raw.outputFormat))) {
    out.outputFormat = raw.outputFormat;
  }
  for (const key of ['inputSampleRate', 'outputSampleRate'] as const) {
    if (raw[key] === undefined) continue;
    const rate = toRate(raw[key]);
    if (rate !== null && (key === 'outputSampleRate' || rate > 0)) out[key] = rate;
  }
  return out;
}

export function readStoredSettings(storage: Storage | undefined): Partial<DemoSettings> {
  try {
    const text = storage?.getItem(STORAGE_KEY);
    if (!text) return {};
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? sanitize(parsed as Record<string, unknown>) : {};
  } catch {
    // Private mode or a corrupt entry: the defaults are fine.
    return {};
  }
}

export function storeSettings(storage: Storage | undefined, settings: DemoSettings): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled: the settings still apply to this visit.
  }
}

export function readQuerySettings(search: string): Partial<DemoSettings> {
  const params = new URLSearchParams(search);
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = params.get(key);
    if (value !== null) raw[key] = value;
  }
  return sanitize(raw);
}

/** Defaults, then what was saved, then the query: the query wins. */
export function resolveSettings(
  location: Pick<Location, 'protocol' | 'hostname' | 'search'>,
  storage: Storage | undefined,
): { settings: DemoSettings; fromQuery: (keyof DemoSettings)[] } {
  const fromQuery = readQuerySettings(location.search);
  return {
    settings: { ...defaultSettings(location), ...readStoredSettings(storage), ...fromQuery },
    fromQuery: Object.keys(fromQuery) as (keyof DemoSettings)[],
  };
}

/** The query string that reproduces `settings` (only what differs from the defaults). */
export function settingsToQuery(
  settings: DemoSettings,
  location?: Pick<Location, 'protocol' | 'hostname'>,
): string {
  const defaults = defaultSettings(location);
  const params = new URLSearchParams();
  for (const key of SETTING_KEYS) {
    // A key or token in a shared link would leak it.
    if (key === 'apiKey' || key === 'token') continue;
    if (settings[key] !== defaults[key]) params.set(key, String(settings[key]));
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** The library's options for these settings (callbacks are added by the page). */
export function toConversationOptions(settings: DemoSettings): ConversationOptions {
  const agentId = settings.agentId.trim();
  const options: ConversationOptions = {
    agentId,
    url: settings.server.trim(),
    input: { encoding: settings.inputEncoding, sampleRate: settings.inputSampleRate },
  };
  // With a relay token the key stays on the server: never send both.
  if (settings.tokenEndpoint.trim()) options.getToken = tokenFetcher(settings.tokenEndpoint.trim(), agentId);
  else if (settings.token.trim()) options.token = settings.token.trim();
  else if (settings.apiKey) options.apiKey = settings.apiKey;
  const output: NonNullable<ConversationOptions['output']> = {};
  if (settings.outputFormat) output.format = settings.outputFormat;
  if (settings.outputSampleRate > 0) output.sampleRate = settings.outputSampleRate;
  if (Object.keys(output).length > 0) options.output = output;
  if (settings.greeting.trim()) options.customGreeting = settings.greeting.trim();
  if (settings.prompt.trim()) options.prompt = settings.prompt.trim();
  return options;
}

/** Whether the page authenticates through a relay (a token) rather than with an API key. */
export function usesRelay(settings: DemoSettings): boolean {
  return Boolean(settings.token.trim() || settings.tokenEndpoint.trim());
}

/**
 * Fetches a short-lived token for each connection, reconnections included: a token minted at
 * page load may have expired by the time the network drops mid-call.
 */
export function tokenFetcher(endpoint: string, agentId: string): () => Promise<string> {
  return async () => {
    const url = new URL(endpoint, globalThis.location?.href);
    url.searchParams.set('agentId', agentId);
    // Same-origin cookies go by default, which is what a site's own token endpoint wants.
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`The token endpoint ${url.origin} answered ${response.status}.`);
    const body: unknown = await response.json();
    const token = (body as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '')
      throw new Error('The token endpoint answered without a token.');
    return token;
  };
}

/** The full socket address shown to the user (without the token, which is a secret). */
export function describeEndpoint(settings: DemoSettings): string {
  try {
    const url = new URL(settings.server.trim());
    url.pathname = `${url.pathname.replace(/\/$/, '')}/${encodeURIComponent(settings.agentId.trim())}`;
    return url.toString();
  } catch {
    return `${settings.server}/${settings.agentId}`;
  }
}
