import { describe, expect, test } from 'vitest';
import {
  defaultSettings,
  describeEndpoint,
  readQuerySettings,
  resolveSettings,
  settingsToQuery,
  toConversationOptions,
} from '../src/settings.ts';

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
    expect(toConversationOptions(base)).toMatchObject({ apiKey: 'local-dev-key', agentId: 'demo-agent' });
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

  test('the endpoint shown keeps a fault query on the base', () => {
    const settings = { ...defaultSettings(location), server: 'ws://127.0.0.1:9/v1/talk?fault=drop:500' };
    expect(describeEndpoint(settings)).toBe('ws://127.0.0.1:9/v1/talk/demo-agent?fault=drop:500');
  });
});
