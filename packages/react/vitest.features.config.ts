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
 * The conversation features in real Chromium with the real audio engine, a real local agent and
 * a fake microphone playing a 1 kHz tone: the visualiser, device switching, announcements,
 * push-to-talk, drain-then-close and the release of the microphone and the wake lock on every
 * end path. The tone file has to exist before the browser starts, hence here.
 */
const fakeAudioFile = join(tmpdir(), `voicewire-features-mic-${process.pid}.wav`);
writeFileSync(fakeAudioFile, encodeWav16(tone(1000, 2, 48_000, 0.25), 48_000));

export default defineConfig({
  plugins: [workspaceSources(), react()],
  test: {
    name: 'features',
    root: new URL('../..', import.meta.url).pathname,
    include: ['packages/react/test/features/**/*.browser.test.{ts,tsx}'],
    globalSetup: ['packages/react/test/browser/leaksGlobalSetup.ts'],
    testTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: { executablePath: chromiumExecutable(), args: chromiumArgs({ fakeAudioFile }) },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
