import { elevenlabs } from '@voicewire/core/elevenlabs';
import { openaiRealtime } from '@voicewire/core/openai';
import { playai } from '@voicewire/core/playai';
import type { Provider } from '@voicewire/react';

/**
 * The services the demo can talk to: one row each, and the rest of the page (the widget, the
 * stats, the settings' credentials) is the same for all of them, as it is for an app. A service
 * joins with a row here (Gemini Live, Deepgram and Hume are next) and its id in the list.
 */
export const DEMO_PROVIDERS = ['playai', 'openai', 'elevenlabs'] as const;
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
