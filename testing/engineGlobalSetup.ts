import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { decodeWav16, tone } from './audio.ts';
import {
  type Display,
  type Engine,
  HEADSET_TONE_AMPLITUDE,
  HEADSET_TONE_HZ,
  PULSE_RATE,
  requireEngine,
  type SoundServer,
  startDisplay,
  startSoundServer,
  startWebKitDriver,
} from './engines.ts';

/**
 * Global set-up of the Firefox and WebKit browser projects (testing/browserProject.ts): a private
 * PulseAudio whose microphone loops the project's WAV, and for WebKit a private Xvfb and
 * WebKitWebDriver. Everything is stopped after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const provided = project.config.provide as {
    engine?: string;
    engineMicFile?: string;
    engineDriverPort?: number;
    engineProject?: string;
  };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  requireEngine((provided.engine ?? 'chromium') as Engine);
  try {
    const sound: SoundServer = await startSoundServer(provided.engineProject ?? project.name);
    stops.push(() => sound.stop());
    if (provided.engineMicFile) {
      const mic = sound.play(decodeWav16(readFileSync(provided.engineMicFile)).samples, { loop: true });
      stops.push(async () => mic.stop());
      // The second microphone: a quieter 600 Hz tone, so a test can tell which one it hears.
      const headset = sound.play(tone(HEADSET_TONE_HZ, 1, PULSE_RATE, HEADSET_TONE_AMPLITUDE), {
        loop: true,
        microphone: 'headset',
      });
      stops.push(async () => headset.stop());
    }
    if (provided.engine === 'webkit') {
      const display: Display = await startDisplay();
      stops.push(() => display.stop());
      const driver = await startWebKitDriver(provided.engineDriverPort!, {
        DISPLAY: display.display,
        PULSE_SERVER: sound.server,
      });
      stops.push(async () => {
        // vitest tears the set-up down before it closes the browser: end the WebDriver session
        // (and MiniBrowser) first, while the driver is still there to do it.
        const browser = (project as unknown as { browser?: { provider?: { close?(): Promise<void> } } })
          .browser;
        await browser?.provider?.close?.();
        await driver.stop();
      });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
