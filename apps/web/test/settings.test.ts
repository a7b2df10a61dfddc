import { afterEach, describe, expect, test, vi } from 'vitest';
import { DEMO_PROVIDERS } from '../src/providers.ts';
import {
  type DemoSettings,
  defaultSettings,
  describeEndpoint,
  describeSession,
  readQuerySettings,
  resolveSettings,
  settingsToQuery,
  toConversationOptions,
} from '../src/settings.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

function memoryStorage(entries: Record<string, string> = {}): Storage {
  const map = new Map(Object.entries(entries));
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (index) => [...map.keys()][index] ?? null,
    removeItem: (key) => void map.delete(key),
    setItem: (key, value) => void map.set(key, value),
  };
}

const location = { protocol: 'http:', hostname: '127.0.0.1', search: '' };

describe('settings', () => {
  test('the defaults talk to the local agent on the page host', () => {
    expect(defaultSettings({ protocol: 'http:', hostname: 'devbox.local' }).server).toBe(
      'ws://devbox.local:8787/v1/talk',
    );
    expect(defaultSettings({ protocol: 'https:', hostname: 'example.com' }).server).toBe(
      'wss://example.com:8787/v1/talk',
    );
  });

  test('the query wins over saved settings, which win over the defaults', () => {
    const storage = memoryStorage({
      'voicewire-demo:settings': JSON.stringify({ agentId: 'saved', outputFormat: 'ogg', greeting: 'Hi' }),
    });
    const { settings, fromQuery } = resolveSettings(
      { ...location, search: '?agentId=query&outputSampleRate=16000' },
      storage,
    );
    expect(settings).toMatchObject({
      agentId: 'query',
      outputFormat: 'ogg',
      outputSampleRate: 16000,
      greeting: 'Hi',
    });
    expect(fromQuery.sort()).toEqual(['agentId', 'outputSampleRate']);
  });

  test('malformed values are ignored', () => {
    expect(
      readQuerySettings('?outputFormat=aac&inputEncoding=opus&inputSampleRate=fast&outputSampleRate=-1'),
    ).toEqual({});
    const storage = memoryStorage({ 'voicewire-demo:settings': '{not json' });
    expect(resolveSettings(location, storage).settings).toEqual(defaultSettings(location));
  });

  test('a token replaces the key, and a token endpoint becomes getToken', () => {
    const base = defaultSettings(location);
    expect(toConversationOptions(base)).toMatchObject({ apiKey: 'local-dev-key' });
    expect(toConversationOptions(base).provider?.name).toBe('playai');
    const withToken = toConversationOptions({ ...base, token: 'tok' });
    expect(withToken.token).toBe('tok');
    expect(withToken.apiKey).toBeUndefined();
    const withEndpoint = toConversationOptions({
      ...base,
      token: 'tok',
      tokenEndpoint: 'http://127.0.0.1:8788/token',
    });
    expect(typeof withEndpoint.getToken).toBe('function');
    expect(withEndpoint.token).toBeUndefined();
    expect(withEndpoint.apiKey).toBeUndefined();
  });

  test('library defaults are left to the library, chosen values are passed on', () => {
    const base = defaultSettings(location);
    expect(toConversationOptions(base).output).toBeUndefined();
    expect(toConversationOptions({ ...base, outputFormat: 'flac', outputSampleRate: 48000 }).output).toEqual({
      format: 'flac',
      sampleRate: 48000,
    });
  });

  test('a shared link carries the settings but never the key or the token', () => {
    const query = settingsToQuery(
      { ...defaultSettings(location), agentId: 'a', apiKey: 'secret', token: 't' },
      location,
    );
    expect(query).toBe('?agentId=a');
  });

  test('the endpoint shown keeps a fault query on the base', async () => {
    const settings = { ...defaultSettings(location), server: 'ws://127.0.0.1:9/v1/talk?fault=drop:500' };
    expect(await describeEndpoint(settings)).toBe('ws://127.0.0.1:9/v1/talk/demo-agent?fault=drop:500');
  });
});

describe('the provider switch', () => {
  test('each provider defaults to the local agent at its vendor path', () => {
    const host = { protocol: 'http:', hostname: 'devbox.local' };
    expect(defaultSettings(host, 'openai').server).toBe('ws://devbox.local:8787/v1/realtime');
    expect(defaultSettings(host, 'elevenlabs').server).toBe('ws://devbox.local:8787/v1/convai/conversation');
    expect(defaultSettings(host, 'gemini').server).toBe(
      'ws://devbox.local:8787/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    );
    expect(defaultSettings(host, 'deepgram').server).toBe('ws://devbox.local:8787/v1/agent/converse');
    expect(defaultSettings(host, 'hume').server).toBe('ws://devbox.local:8787/v0/evi/chat');
  });

  test('?provider= alone moves the saved server to the new path; a server of its own is kept', () => {
    const relay = memoryStorage({
      'voicewire-demo:settings': JSON.stringify({ server: 'ws://127.0.0.1:8788/v1/talk' }),
    });
    expect(resolveSettings({ ...location, search: '?provider=openai' }, relay).settings).toMatchObject({
      provider: 'openai',
      server: 'ws://127.0.0.1:8788/v1/realtime',
    });
    const proxy = memoryStorage({
      'voicewire-demo:settings': JSON.stringify({ server: 'wss://voice.example.com/socket' }),
    });
    expect(resolveSettings({ ...location, search: '?provider=elevenlabs' }, proxy).settings.server).toBe(
      'wss://voice.example.com/socket',
    );
    expect(readQuerySettings('?provider=watson')).toEqual({});
  });

  test('every provider round-trips through the link', () => {
    const samples: Record<(typeof DEMO_PROVIDERS)[number], Partial<DemoSettings>> = {
      playai: { agentId: 'support', greeting: 'Hi there', prompt: 'Be brief.', outputFormat: 'mulaw' },
      openai: { model: 'gpt-realtime-mini', voice: 'marin', prompt: 'You are terse.', greeting: 'Hello.' },
      elevenlabs: {
        agentId: 'agent_123',
        voice: 'v1',
        language: 'fr',
        greeting: 'Bonjour.',
        prompt: 'Be kind.',
      },
      gemini: { model: 'gemini-2.5-flash-native-audio', voice: 'Kore', prompt: 'Answer in one line.' },
      deepgram: { greeting: 'Hi, how can I help?', prompt: 'You are a librarian.' },
      hume: { agentId: 'config-7', voice: 'ito', prompt: 'Be warm.' },
    };
    for (const provider of DEMO_PROVIDERS) {
      const settings: DemoSettings = {
        ...defaultSettings(location, provider),
        ...samples[provider],
        tokenEndpoint: 'http://127.0.0.1:8788/token',
      };
      const query = settingsToQuery(settings, location);
      expect(new URLSearchParams(query).get('provider')).toBe(provider === 'playai' ? null : provider);
      expect(query).not.toContain('server=');
      expect(resolveSettings({ ...location, search: query }, memoryStorage()).settings).toEqual(settings);
    }
  });

  test('OpenAI: the model and voice go to openaiRealtime(), the key on the socket, no PlayAI formats', async () => {
    const settings = {
      ...defaultSettings(location, 'openai'),
      voice: 'marin',
      inputEncoding: 'mulaw' as const,
    };
    const options = toConversationOptions(settings);
    expect(options.provider?.name).toBe('openai');
    expect(options).toMatchObject({ url: 'ws://127.0.0.1:8787/v1/realtime', apiKey: 'local-dev-key' });
    expect(options.input).toBeUndefined();
    expect(options.output).toBeUndefined();
    expect(await describeSession(settings)).toEqual({
      endpoint: 'ws://127.0.0.1:8787/v1/realtime?model=gpt-realtime',
      audio: { input: 'L16 · 24 kHz', output: 'L16 · 24 kHz' },
    });
  });

  test('a token endpoint is asked for a token bound to the model (OpenAI) or the agent (PlayAI)', async () => {
    const asked: string[] = [];
    vi.stubGlobal('fetch', async (url: URL) => {
      asked.push(String(url));
      return new Response(JSON.stringify({ token: 'tok' }));
    });
    const tokenEndpoint = 'http://127.0.0.1:8788/token';
    for (const provider of ['openai', 'playai', 'elevenlabs', 'gemini', 'deepgram', 'hume'] as const) {
      const options = toConversationOptions({ ...defaultSettings(location, provider), tokenEndpoint });
      expect(await options.getToken!()).toBe('tok');
      expect(options.apiKey).toBeUndefined();
    }
    expect(asked).toEqual([
      'http://127.0.0.1:8788/token?target=gpt-realtime',
      'http://127.0.0.1:8788/token?agentId=demo-agent',
      'http://127.0.0.1:8788/token?target=demo-agent',
      'http://127.0.0.1:8788/token?target=gemini-live-2.5-flash-preview',
      // Deepgram's relay tokens are bound to nothing.
      'http://127.0.0.1:8788/token?target=',
      'http://127.0.0.1:8788/token?target=demo-agent',
    ]);
  });

  test('ElevenLabs: the key buys a signed URL, which becomes the socket; no key, a public agent', async () => {
    const asked: { url: string; key: string | null }[] = [];
    const signed = 'ws://127.0.0.1:8787/v1/convai/conversation?agent_id=demo-agent&conversation_signature=s1';
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      asked.push({ url: String(url), key: new Headers(init.headers).get('xi-api-key') });
      return new Response(JSON.stringify({ signed_url: signed }));
    });
    const settings = { ...defaultSettings(location, 'elevenlabs'), greeting: 'Bonjour.', language: 'fr' };
    const options = toConversationOptions(settings);
    expect(options.provider?.name).toBe('elevenlabs');
    expect(options.apiKey).toBeUndefined();
    expect(await options.getToken!()).toBe(signed);
    expect(asked).toEqual([
      {
        url: 'http://127.0.0.1:8787/v1/convai/conversation/get-signed-url?agent_id=demo-agent',
        key: 'local-dev-key',
      },
    ]);
    expect(toConversationOptions({ ...settings, apiKey: '' }).getToken).toBeUndefined();
    expect(await describeEndpoint(settings)).toBe(
      'ws://127.0.0.1:8787/v1/convai/conversation?agent_id=demo-agent',
    );
    expect((await describeSession(settings)).audio).toEqual({
      input: 'L16 · 16 kHz',
      output: 'L16 · 16 kHz',
    });
  });
});
