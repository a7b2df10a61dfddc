import { OUTPUT_FORMATS, type OutputFormat } from '@voicewire/core/playai';
import type { CaptureEncoding, ConversationOptions, Provider } from '@voicewire/react';
import { type DemoProvider, isDemoProvider, PROVIDER_PROFILES, serverForProvider } from './providers.ts';

/**
 * Everything the settings panel edits. Each field is also a URL query parameter of the same
 * name, so a link (or an end-to-end test) can open the page already configured.
 */
export interface DemoSettings {
  /** The service (`?provider=openai`): its protocol, and which of the settings below it uses. */
  provider: DemoProvider;
  /**
   * The endpoint without its query, like the library's `url`: PlayAI's is a base the agent id
   * is appended to; the others get their query (`?model=`, `?agent_id=`).
   */
  server: string;
  /** PlayAI's and ElevenLabs' agent. */
  agentId: string;
  /** OpenAI's or Gemini's model ('' = the service's default, each its own). */
  model: string;
  /** OpenAI's voice, ElevenLabs' voice id ('' = the agent's or model's own). */
  voice: string;
  /** ElevenLabs' language, an ISO 639-1 code ('' = the agent's). */
  language: string;
  /** For prototypes and the local agent only: in production a relay holds the key. */
  apiKey: string;
  /** A relay session token (the production path); sent instead of the key when set. */
  token: string;
  /**
   * Where to fetch a fresh token before each connection (`GET <endpoint>?agentId=` for PlayAI,
   * `?target=<model or agent id>` for the others, answering `{ "token": "…" }`): in production,
   * the site's own backend; locally, the relay's `--dev-token-endpoint`. Takes precedence over
   * `token`.
   */
  tokenEndpoint: string;
  inputEncoding: CaptureEncoding;
  inputSampleRate: number;
  /** '' = the library's default. */
  outputFormat: OutputFormat | '';
  /** 0 = the library's default. */
  outputSampleRate: number;
  /** PlayAI's custom greeting, OpenAI's greeting, ElevenLabs' first message. */
  greeting: string;
  /** PlayAI's and ElevenLabs' prompt, OpenAI's instructions. */
  prompt: string;
}

export const SETTING_KEYS = [
  'provider',
  'server',
  'agentId',
  'model',
  'voice',
  'language',
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
 * The local agent on the same host as the page, at the provider's path, so the demo works with
 * no settings to fill in (`npm run demo` starts both; the agent speaks every provider's protocol).
 * `VITE_VOICEWIRE_SERVER` (PlayAI's URL) lets the demo script point elsewhere; the other
 * providers' paths are on its host.
 */
export function defaultServer(
  location: Pick<Location, 'protocol' | 'hostname'> | undefined,
  provider: DemoProvider = 'playai',
): string {
  const fromEnv = import.meta.env?.VITE_VOICEWIRE_SERVER as string | undefined;
  if (fromEnv) return serverForProvider(fromEnv, 'playai', provider);
  // A page on https may not open ws:// (mixed content).
  const scheme = location?.protocol === 'https:' ? 'wss' : 'ws';
  const host = location?.hostname || '127.0.0.1';
  const origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${LOCAL_AGENT_PORT}`;
  return `${origin}${PROVIDER_PROFILES[provider].path}`;
}

export function defaultSettings(
  location?: Pick<Location, 'protocol' | 'hostname'>,
  provider: DemoProvider = 'playai',
): DemoSettings {
  return {
    provider,
    server: defaultServer(location, provider),
    agentId: 'demo-agent',
    model: '',
    voice: '',
    language: '',
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
  if (isDemoProvider(raw.provider)) out.provider = raw.provider;
  for (const key of [
    'server',
    'agentId',
    'model',
    'voice',
    'language',
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

/**
 * Defaults, then what was saved, then the query: the query wins. A query that switches the
 * provider without a `server` moves the saved server to the new provider's path (the local
 * agent, or a relay, serves each at its vendor's path).
 */
export function resolveSettings(
  location: Pick<Location, 'protocol' | 'hostname' | 'search'>,
  storage: Storage | undefined,
): { settings: DemoSettings; fromQuery: (keyof DemoSettings)[] } {
  const fromQuery = readQuerySettings(location.search);
  const saved: DemoSettings = { ...defaultSettings(location), ...readStoredSettings(storage) };
  const settings: DemoSettings = { ...saved, ...fromQuery };
  if (fromQuery.server === undefined)
    settings.server = serverForProvider(saved.server, saved.provider, settings.provider);
  return { settings, fromQuery: Object.keys(fromQuery) as (keyof DemoSettings)[] };
}

/** The query string that reproduces `settings` (only what differs from the defaults). */
export function settingsToQuery(
  settings: DemoSettings,
  location?: Pick<Location, 'protocol' | 'hostname'>,
): string {
  // The server is compared with the provider's own default: `?provider=openai` alone is enough.
  const defaults = { ...defaultSettings(location, settings.provider), provider: 'playai' };
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
  const profile = PROVIDER_PROFILES[settings.provider];
  const server = settings.server.trim();
  const options: ConversationOptions = { provider: profile.create(settings), url: server };
  // With a relay token the key stays on the server: never send both.
  if (settings.tokenEndpoint.trim()) {
    options.getToken = tokenFetcher(settings.tokenEndpoint.trim(), profile.tokenQuery(settings));
  } else if (settings.token.trim()) {
    options.token = settings.token.trim();
  } else if (settings.apiKey) {
    if (profile.key === 'signedUrl')
      options.getToken = signedUrlFetcher(server, settings.agentId.trim(), settings.apiKey);
    else options.apiKey = settings.apiKey;
  }
  // The formats are PlayAI's to choose; the other services set (or announce) their own.
  if (profile.fields.formats === undefined) return options;
  options.input = { encoding: settings.inputEncoding, sampleRate: settings.inputSampleRate };
  const output: NonNullable<ConversationOptions['output']> = {};
  if (settings.outputFormat) output.format = settings.outputFormat;
  if (settings.outputSampleRate > 0) output.sampleRate = settings.outputSampleRate;
  if (Object.keys(output).length > 0) options.output = output;
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
export function tokenFetcher(endpoint: string, [name, value]: [string, string]): () => Promise<string> {
  return async () => {
    const url = new URL(endpoint, globalThis.location?.href);
    url.searchParams.set(name, value);
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

/**
 * ElevenLabs' way in for a private agent: a signed URL, asked for with the API key in the
 * `xi-api-key` header (`GET /v1/convai/conversation/get-signed-url?agent_id=`) on the service's
 * HTTP origin (the local agent answers it too). Your backend's job in production; here, for a
 * prototype, the page does it. The provider opens the signed URL as the socket.
 */
export function signedUrlFetcher(server: string, agentId: string, apiKey: string): () => Promise<string> {
  return async () => {
    const socket = new URL(server);
    const url = new URL('/v1/convai/conversation/get-signed-url', socket);
    url.protocol = socket.protocol === 'wss:' ? 'https:' : 'http:';
    url.searchParams.set('agent_id', agentId);
    const response = await fetch(url, { cache: 'no-store', headers: { 'xi-api-key': apiKey } });
    if (!response.ok) throw new Error(`${url.origin} refused a signed URL (${response.status}).`);
    const body: unknown = await response.json();
    const signed = (body as { signed_url?: unknown } | null)?.signed_url;
    if (typeof signed !== 'string' || !/^wss?:\/\//.test(signed))
      throw new Error(`${url.origin} answered without a signed URL.`);
    return signed;
  };
}

/** What the library will use for some settings: its socket URL (no credential) and formats. */
export interface SessionDescription {
  endpoint: string;
  audio: { input: string; output: string };
}

/**
 * Asks the provider itself (its protocol loads on the first call): the socket it opens and the
 * formats it settles on, so what the page shows is what the library does.
 */
export async function describeSession(settings: DemoSettings): Promise<SessionDescription> {
  const options = toConversationOptions(settings);
  const provider = options.provider as Provider;
  const session = await provider.start({
    url: options.url,
    input: options.input ?? {},
    output: options.output ?? {},
    continueConversation: undefined,
    turnTaking: 'vad',
  });
  if (typeof session === 'string') return { endpoint: settings.server, audio: { input: '–', output: '–' } };
  return {
    endpoint: session.socket({ apiKey: undefined, token: undefined }, undefined).url,
    audio: {
      input: `${shortName(session.input.encoding)} · ${kHz(session.input.sampleRate)}`,
      output: `${shortName(session.output.format)} · ${kHz(session.output.sampleRate)}`,
    },
  };
}

/** RFC 3551's short names for the PCM encodings: the full ones do not fit a stats cell on a phone. */
function shortName(format: string): string {
  if (format === 'linear16' || format === 'pcm16') return 'L16';
  return format === 'mulaw' ? 'μ-law' : format;
}

function kHz(rate: number): string {
  return `${(rate / 1000).toLocaleString('en', { maximumFractionDigits: 2 })} kHz`;
}

/** The full socket address shown to the user (without the token, which is a secret). */
export async function describeEndpoint(settings: DemoSettings): Promise<string> {
  return (await describeSession(settings)).endpoint;
}
