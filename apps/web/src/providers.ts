import { deepgramAgent } from '@voicewire/core/deepgram';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { geminiLive } from '@voicewire/core/gemini';
import { humeEvi } from '@voicewire/core/hume';
import { openaiRealtime } from '@voicewire/core/openai';
import { playai } from '@voicewire/core/playai';
import type { Provider } from '@voicewire/react';

/**
 * The services the demo can talk to: one row each, and the rest of the page (the widget, the
 * stats, the settings' credentials) is the same for all of them, as it is for an app. A service
 * joins with a row here and its id in the list.
 */
export const DEMO_PROVIDERS = ['playai', 'openai', 'elevenlabs', 'gemini', 'deepgram', 'hume'] as const;
export type DemoProvider = (typeof DEMO_PROVIDERS)[number];

export function isDemoProvider(value: unknown): value is DemoProvider {
  return (DEMO_PROVIDERS as readonly unknown[]).includes(value);
}

/** What a provider needs from the settings (a subset of the demo's settings). */
export interface ProviderSettings {
  agentId: string;
  model: string;
  voice: string;
  language: string;
  greeting: string;
  prompt: string;
}

/** A setting the panel shows for a provider, with its label there. */
export type ProviderField = keyof ProviderSettings | 'formats';

export interface ProviderProfile {
  /** The name people know it by. */
  label: string;
  /** Where the service listens, on the local agent, on the relay and at the vendor. */
  path: string;
  /** The settings that matter for it, with their labels; the panel hides the others. */
  fields: Partial<Record<ProviderField, string>>;
  /** The model used when the setting is empty (services that take one). */
  defaultModel?: string;
  /**
   * How an API key in the page is used (prototypes only): sent on the socket (PlayAI's `setup`,
   * OpenAI's subprotocol), or exchanged for a signed URL first (ElevenLabs takes its key only
   * as a header, which a browser's WebSocket cannot send).
   */
  key: 'socket' | 'signedUrl';
  /** What the key does, for the panel. */
  keyHint: string;
  /** Who decides the audio formats, for a provider without PlayAI's format pickers. */
  audioNote?: string;
  /**
   * The query of a token request (`GET <tokenEndpoint>?…`): what the token is bound to, in the
   * words of the relay's `/token` (`agentId` for PlayAI, `target` for the others).
   */
  tokenQuery(settings: ProviderSettings): [name: string, value: string];
  /** The provider for these settings. */
  create(settings: ProviderSettings): Provider;
}

/** Trimmed, or undefined when empty: the provider's own default then applies. */
function given(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export const DEFAULT_OPENAI_MODEL = 'gpt-realtime';
export const DEFAULT_GEMINI_MODEL = 'gemini-live-2.5-flash-preview';

export const PROVIDER_PROFILES: Record<DemoProvider, ProviderProfile> = {
  playai: {
    label: 'PlayAI',
    path: '/v1/talk',
    fields: { agentId: 'Agent id', greeting: 'Greeting', prompt: 'Prompt', formats: 'Audio' },
    key: 'socket',
    keyHint: 'Sent in the setup message.',
    tokenQuery: (settings) => ['agentId', settings.agentId.trim()],
    create: (settings) => {
      const options: Parameters<typeof playai>[0] = { agentId: settings.agentId.trim() };
      const greeting = given(settings.greeting);
      const prompt = given(settings.prompt);
      if (greeting !== undefined) options.customGreeting = greeting;
      if (prompt !== undefined) options.prompt = prompt;
      return playai(options);
    },
  },
  openai: {
    label: 'OpenAI Realtime',
    path: '/v1/realtime',
    fields: { model: 'Model', voice: 'Voice', greeting: 'Greeting', prompt: 'Instructions' },
    defaultModel: DEFAULT_OPENAI_MODEL,
    key: 'socket',
    keyHint: 'Sent as the subprotocol openai-insecure-api-key.<key>, as OpenAI’s browser clients do.',
    audioNote: 'as OpenAI Realtime takes and sends it.',
    tokenQuery: (settings) => ['target', given(settings.model) ?? DEFAULT_OPENAI_MODEL],
    create: (settings) => {
      const options: NonNullable<Parameters<typeof openaiRealtime>[0]> = {
        model: given(settings.model) ?? DEFAULT_OPENAI_MODEL,
      };
      const voice = given(settings.voice);
      const greeting = given(settings.greeting);
      const instructions = given(settings.prompt);
      if (voice !== undefined) options.voice = voice;
      if (greeting !== undefined) options.greeting = greeting;
      if (instructions !== undefined) options.instructions = instructions;
      return openaiRealtime(options);
    },
  },
  elevenlabs: {
    label: 'ElevenLabs Agents',
    path: '/v1/convai/conversation',
    fields: {
      agentId: 'Agent id',
      greeting: 'First message',
      prompt: 'Prompt',
      voice: 'Voice id',
      language: 'Language',
    },
    key: 'signedUrl',
    keyHint:
      'Exchanged for a signed URL (GET /v1/convai/conversation/get-signed-url with xi-api-key), as your backend would. Empty: a public agent.',
    audioNote: 'until the agent announces its own (its settings decide).',
    tokenQuery: (settings) => ['target', settings.agentId.trim()],
    create: (settings) => {
      const overrides: NonNullable<Parameters<typeof elevenlabs>[0]['overrides']> = {};
      const firstMessage = given(settings.greeting);
      const prompt = given(settings.prompt);
      const voiceId = given(settings.voice);
      const language = given(settings.language);
      if (firstMessage !== undefined) overrides.firstMessage = firstMessage;
      if (prompt !== undefined) overrides.prompt = prompt;
      if (voiceId !== undefined) overrides.voiceId = voiceId;
      if (language !== undefined) overrides.language = language;
      return elevenlabs({
        agentId: settings.agentId.trim(),
        ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
      });
    },
  },
  gemini: {
    label: 'Gemini Live',
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    fields: { model: 'Model', voice: 'Voice', prompt: 'System instruction' },
    defaultModel: DEFAULT_GEMINI_MODEL,
    key: 'socket',
    keyHint: 'Sent as ?key= on the socket, as Google’s SDK does.',
    audioNote: 'as Gemini Live takes and sends it.',
    tokenQuery: (settings) => ['target', given(settings.model) ?? DEFAULT_GEMINI_MODEL],
    create: (settings) => {
      const options: NonNullable<Parameters<typeof geminiLive>[0]> = {
        model: given(settings.model) ?? DEFAULT_GEMINI_MODEL,
      };
      const voice = given(settings.voice);
      const systemInstruction = given(settings.prompt);
      if (voice !== undefined) options.voice = voice;
      if (systemInstruction !== undefined) options.systemInstruction = systemInstruction;
      return geminiLive(options);
    },
  },
  deepgram: {
    label: 'Deepgram Voice Agent',
    path: '/v1/agent/converse',
    fields: { greeting: 'Greeting', prompt: 'Prompt' },
    key: 'socket',
    keyHint: 'Sent as the subprotocols token, <key>, as Deepgram’s browser clients do.',
    audioNote: 'as the Settings message asks for it.',
    // Deepgram's relay tokens open any agent: there is nothing to bind one to.
    tokenQuery: () => ['target', ''],
    create: (settings) => {
      const options: NonNullable<Parameters<typeof deepgramAgent>[0]> = {};
      const greeting = given(settings.greeting);
      const prompt = given(settings.prompt);
      if (greeting !== undefined) options.greeting = greeting;
      if (prompt !== undefined)
        options.think = { provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt };
      return deepgramAgent(options);
    },
  },
  hume: {
    label: 'Hume EVI',
    path: '/v0/evi/chat',
    fields: { agentId: 'Config id', voice: 'Voice id', prompt: 'System prompt' },
    key: 'socket',
    keyHint: 'Sent as ?api_key= on the socket (an access token minted by your server is safer).',
    audioNote: 'as the session settings ask for it.',
    tokenQuery: (settings) => ['target', settings.agentId.trim()],
    create: (settings) => {
      const options: NonNullable<Parameters<typeof humeEvi>[0]> = {};
      const configId = given(settings.agentId);
      const voiceId = given(settings.voice);
      const systemPrompt = given(settings.prompt);
      if (configId !== undefined) options.configId = configId;
      if (voiceId !== undefined) options.voiceId = voiceId;
      if (systemPrompt !== undefined) options.systemPrompt = systemPrompt;
      return humeEvi(options);
    },
  },
};

/**
 * `server` moved to another provider: a URL at the old provider's path (the local agent's, or a
 * relay's) gets the new one's, on the same host; any other URL is left as the user wrote it.
 */
export function serverForProvider(server: string, from: DemoProvider, to: DemoProvider): string {
  if (from === to) return server;
  try {
    const url = new URL(server.trim());
    const path = url.pathname.replace(/\/+$/, '');
    const old = PROVIDER_PROFILES[from].path;
    if (!path.endsWith(old)) return server;
    url.pathname = `${path.slice(0, -old.length)}${PROVIDER_PROFILES[to].path}`;
    return url.toString();
  } catch {
    return server;
  }
}
