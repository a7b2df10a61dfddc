// Internal (the conversation loads it at start()), so tested from its source.

import { describe, expect, it } from 'vitest';
import { createWakeLock } from '../../src/platform/wakeLock.ts';

/**
 * The Screen Wake Lock API as browsers implement it: `request('screen')` resolves a sentinel
 * the page releases, and the browser releases by itself when the page is hidden. (Headless
 * Chromium refuses wake locks, so the browser's side is played here.)
 */
function fakeBrowser(options: { refuse?: boolean } = {}) {
  const visibilityListeners = new Set<() => void>();
  const sentinels: { released: boolean; fire: () => void }[] = [];
  const document = {
    visibilityState: 'visible' as DocumentVisibilityState,
    addEventListener: (_type: string, listener: () => void) => visibilityListeners.add(listener),
    removeEventListener: (_type: string, listener: () => void) => visibilityListeners.delete(listener),
  };
  const navigator = {
    wakeLock: {
      async request(type: 'screen') {
        expect(type).toBe('screen');
        if (options.refuse) throw new DOMException('not allowed', 'NotAllowedError');
        const listeners = new Set<() => void>();
        const sentinel = {
          released: false,
          async release() {
            if (sentinel.released) return;
            sentinel.released = true;
            for (const listener of listeners) listener();
          },
          addEventListener: (_: 'release', listener: () => void) => listeners.add(listener),
          removeEventListener: (_: 'release', listener: () => void) => listeners.delete(listener),
        };
        sentinels.push({
          get released() {
            return sentinel.released;
          },
          fire: () => void sentinel.release(),
        });
        return sentinel;
      },
    },
  };
  return {
    document: document as unknown as Document,
    navigator,
    sentinels,
    visibilityListeners,
    setVisibility(state: DocumentVisibilityState) {
      document.visibilityState = state;
      // The browser releases a held lock when the page is hidden, then fires visibilitychange.
      if (state === 'hidden') for (const s of sentinels) if (!s.released) s.fire();
      for (const listener of [...visibilityListeners]) listener();
    },
    held: () => sentinels.filter((s) => !s.released).length,
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createWakeLock', () => {
  it('holds the screen, re-acquires when the page is visible again, releases everything', async () => {
    const browser = fakeBrowser();
    const lock = createWakeLock(browser);
    expect(lock.supported).toBe(true);
    lock.acquire();
    await tick();
    expect(lock.state).toBe('held');
    expect(browser.held()).toBe(1);

    browser.setVisibility('hidden');
    await tick();
    expect(lock.state).toBe('wanted');
    expect(browser.held()).toBe(0);

    browser.setVisibility('visible');
    await tick();
    expect(lock.state).toBe('held');
    expect(browser.sentinels).toHaveLength(2);

    await lock.release();
    expect(lock.state).toBe('released');
    expect(browser.held()).toBe(0);
    expect(browser.visibilityListeners.size).toBe(0);
    // Visible again after the end: nothing is asked for.
    browser.setVisibility('visible');
    await tick();
    expect(browser.sentinels).toHaveLength(2);
  });

  it('gives back a lock that arrives after release()', async () => {
    const browser = fakeBrowser();
    const lock = createWakeLock(browser);
    lock.acquire();
    await lock.release();
    await tick();
    expect(browser.sentinels).toHaveLength(1);
    expect(browser.held()).toBe(0);
  });

  it('waits for the page to be visible before asking', async () => {
    const browser = fakeBrowser();
    browser.setVisibility('hidden');
    const lock = createWakeLock(browser);
    lock.acquire();
    await tick();
    expect(browser.sentinels).toHaveLength(0);
    browser.setVisibility('visible');
    await tick();
    expect(lock.state).toBe('held');
    await lock.release();
  });

  it('a refusal or a missing API is not an error', async () => {
    const refused = fakeBrowser({ refuse: true });
    const lock = createWakeLock(refused);
    lock.acquire();
    await tick();
    expect(lock.state).toBe('wanted');
    await lock.release();
    expect(lock.state).toBe('released');

    const absent = createWakeLock({ navigator: {}, document: undefined });
    expect(absent.supported).toBe(false);
    absent.acquire();
    expect(absent.state).toBe('wanted');
    await absent.release();
    // Node has no navigator.wakeLock either: the defaults read the globals without throwing.
    const defaults = createWakeLock();
    defaults.acquire();
    await defaults.release();
  });
});
