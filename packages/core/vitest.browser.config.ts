import { defineConfig } from 'vitest/config';
import { concat, tone } from '../../testing/audio.ts';
import { engineTestOptions } from '../../testing/browserProject.ts';
import type { Engine } from '../../testing/engines.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * The fake microphone: a 1 kHz tone (the level and pitch reference) plus a 12 kHz tone of the
 * same amplitude (the alias probe: captured at 16 kHz it must vanish, at 48 kHz it must not).
 * It loops, so it holds whole periods of both tones and loops without a click. Chromium plays it
 * as its fake capture file; Firefox and WebKit hear it from a private PulseAudio.
 */
export const FAKE_MIC_RATE = 48_000;
export const FAKE_MIC_TONE_AMPLITUDE = 0.25;
function fakeMic(): Float32Array {
  const low = tone(1000, 2, FAKE_MIC_RATE, FAKE_MIC_TONE_AMPLITUDE);
  const high = tone(12_000, 2, FAKE_MIC_RATE, FAKE_MIC_TONE_AMPLITUDE);
  const mix = concat(low);
  for (let i = 0; i < mix.length; i++) mix[i]! += high[i]!;
  return mix;
}

/** The core browser suite in one engine: "core-browser" (Chromium), "core-browser-firefox", "core-browser-webkit". */
export function coreBrowserConfig(engine: Engine) {
  const options = engineTestOptions('core-browser', engine, fakeMic());
  return defineConfig({
    plugins: [workspaceSources()],
    test: {
      root: new URL('../..', import.meta.url).pathname,
      include: ['packages/core/test/browser/**/*.test.ts'],
      // Waits on the browser's audio are bounded at 20 s each (a loaded machine), a test at 60 s.
      testTimeout: 60_000,
      ...options,
      // Encoded mp3/ogg/flac test streams, made in Node with the server's encoders; then the
      // engine's own services (PulseAudio, Xvfb, WebKitWebDriver) where it needs them.
      globalSetup: ['packages/core/test/browser/globalSetup.ts', ...options.globalSetup],
    },
  });
}

export default coreBrowserConfig('chromium');
