import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { encodeWav16, tone } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * Robustness in real Chromium (H6): mount/unmount leaks and microphone failures, against a real
 * local agent started by the global setup. The fake microphone plays a 440 Hz tone; it has to
 * exist before the browser starts, hence here.
 */
const fakeAudioFile = join(tmpdir(), `voicewire-leaks-mic-${process.pid}.wav`);
writeFileSync(fakeAudioFile, encodeWav16(tone(440, 2, 48_000, 0.2), 48_000));

export default defineConfig({
  plugins: [workspaceSources(), react()],
  test: {
    name: 'leaks',
    root: new URL('../..', import.meta.url).pathname,
    include: [
      'packages/react/test/browser/leaks.browser.test.tsx',
      'packages/react/test/browser/microphone.browser.test.tsx',
    ],
    globalSetup: ['packages/react/test/browser/leaksGlobalSetup.ts'],
    testTimeout: 120_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: chromiumExecutable(),
          args: chromiumArgs({ fakeAudioFile }),
        },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
