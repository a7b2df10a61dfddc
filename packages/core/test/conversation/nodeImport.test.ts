import { afterEach, describe, expect, it, vi } from 'vitest';

const BROWSER_GLOBALS = [
  'window',
  'self',
  'document',
  'navigator',
  'location',
  'localStorage',
  'AudioContext',
  'webkitAudioContext',
  'AudioWorkletNode',
  'MediaStream',
  'WebSocket',
  'Worker',
  'requestAnimationFrame',
  'matchMedia',
];

const restores: (() => void)[] = [];

afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

/** Replace each browser global by a getter that records the access (and returns undefined, as in Node). */
function trapBrowserGlobals(): string[] {
  const touched: string[] = [];
  const g = globalThis as Record<string, unknown>;
  for (const name of BROWSER_GLOBALS) {
    const previous = Object.getOwnPropertyDescriptor(globalThis, name);
    if (previous && !previous.configurable) continue;
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        touched.push(name);
        return undefined;
      },
    });
    restores.push(() => {
      if (previous) Object.defineProperty(globalThis, name, previous);
      else delete g[name];
    });
  }
  return touched;
}

describe('server-side import', () => {
  it('importing @voicewire/core and creating a conversation touches no browser global', async () => {
    vi.resetModules();
    const touched = trapBrowserGlobals();
    const core = await import('@voicewire/core');
    const testing = await import('@voicewire/core/testing');
    expect(typeof core.createConversation).toBe('function');
    expect(typeof testing.createScriptedServer).toBe('function');
    const conversation = core.createConversation({ agentId: 'ssr' });
    expect(conversation.store.getState().status).toBe('idle');
    expect(conversation.getInputLevel()).toBe(0);
    expect(conversation.getStats().framesSent).toBe(0);
    await conversation.stop();
    expect(touched).toEqual([]);
    // The trap itself works: a read is recorded.
    void (globalThis as { navigator?: unknown }).navigator;
    expect(touched).toEqual(['navigator']);
  });

  it('start() in Node fails with a clear error, not a ReferenceError', async () => {
    const { createConversation } = await import('@voicewire/core');
    const conversation = createConversation({ agentId: 'ssr' });
    await expect(conversation.start()).resolves.toBeUndefined();
    expect(conversation.store.getState()).toMatchObject({
      status: 'error',
      error: { kind: 'unsupported', fatal: true },
    });
  });
});
