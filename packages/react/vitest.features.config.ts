import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { tone } from '../../testing/audio.ts';
import { engineTestOptions } from '../../testing/browserProject.ts';
import type { Engine } from '../../testing/engines.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * The conversation features in a real browser with the real audio engine, a real local agent and
 * a microphone playing a 1 kHz tone: the visualiser, device switching, announcements,
 * push-to-talk, drain-then-close and the release of the microphone and the wake lock on every
 * end path. One project per engine: "features" (Chromium), "features-firefox", "features-webkit".
 */
export function featuresConfig(engine: Engine) {
  const options = engineTestOptions('features', engine, tone(1000, 2, 48_000, 0.25));
  return defineConfig({
    plugins: [workspaceSources(), react()],
    test: {
      root: new URL('../..', import.meta.url).pathname,
      include: ['packages/react/test/features/**/*.browser.test.{ts,tsx}'],
      testTimeout: 60_000,
      ...options,
      globalSetup: ['packages/react/test/browser/leaksGlobalSetup.ts', ...options.globalSetup],
    },
  });
}

export default featuresConfig('chromium');
