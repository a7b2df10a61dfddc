import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { tone } from '../../testing/audio.ts';
import { engineTestOptions } from '../../testing/browserProject.ts';
import type { Engine } from '../../testing/engines.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * Robustness in a real browser (H6): mount/unmount leaks and microphone failures, against a real
 * local agent started by the global setup, in one engine: "leaks" (Chromium), "leaks-firefox",
 * "leaks-webkit". The microphone plays a 440 Hz tone (Chromium's fake capture file; a private
 * PulseAudio in Firefox and WebKit, see testing/browserProject.ts).
 */
export function leaksConfig(engine: Engine) {
  const options = engineTestOptions('leaks', engine, tone(440, 2, 48_000, 0.2));
  return defineConfig({
    plugins: [workspaceSources(), react()],
    test: {
      root: new URL('../..', import.meta.url).pathname,
      include: [
        'packages/react/test/browser/leaks.browser.test.tsx',
        'packages/react/test/browser/microphone.browser.test.tsx',
      ],
      // 100 and 50 real start/stop cycles per test: on a loaded machine (WebKit most of all) they
      // take minutes, not the ~30 s they take on a quiet one.
      testTimeout: 300_000,
      ...options,
      globalSetup: ['packages/react/test/browser/leaksGlobalSetup.ts', ...options.globalSetup],
    },
  });
}

export default leaksConfig('chromium');
