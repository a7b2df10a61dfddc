import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { concat, encodeWav16, tone } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * The fake microphone: a 1 kHz tone (the level and pitch reference) plus a 12 kHz tone of the
 * same amplitude (the alias probe: captured at 16 kHz it must vanish, at 48 kHz it must not).
 * Chromium loops the file, so it holds whole periods of both tones and loops without a click.
 * It has to exist before the browser starts, hence here rather than in a setup file.
 */
export const FAKE_MIC_RATE = 48_000;
export const FAKE_MIC_TONE_AMPLITUDE = 0.25;
const fakeAudioFile = join(tmpdir(), `voicewire-core-browser-mic-${process.pid}.wav`);
{
  const low = tone(1000, 2, FAKE_MIC_RATE, FAKE_MIC_TONE_AMPLITUDE);
  const high = tone(12_000, 2, FAKE_MIC_RATE, FAKE_MIC_TONE_AMPLITUDE);
  const mix = concat(low);
  for (let i = 0; i < mix.length; i++) mix[i]! += high[i]!;
  writeFileSync(fakeAudioFile, encodeWav16(mix, FAKE_MIC_RATE));
}

export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'core-browser',
    root: new URL('../..', import.meta.url).pathname,
    include: ['packages/core/test/browser/**/*.test.ts'],
    // Encoded mp3/ogg/flac test streams, made in Node with the server's encoders.
    globalSetup: ['packages/core/test/browser/globalSetup.ts'],
    testTimeout: 30_000,
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
