import { readFileSync } from 'node:fs';
import { type Browser, chromium, firefox, type Page } from 'playwright';
import { remote } from 'webdriverio';
import { decodeWav16 } from '../../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../../testing/chromium.ts';
import {
  type Display,
  type Engine,
  firefoxLaunchOptions,
  freePortSync,
  requireEngine,
  type SoundServer,
  startDisplay,
  startSoundServer,
  startWebKitDriver,
  type WebKitDriver,
  webkitCapabilities,
} from '../../../testing/engines.ts';

/**
 * The demo page in one of the three engines, through the few operations the cross-engine
 * journeys need (Playwright for Chromium and Firefox, WebDriver for WebKit's MiniBrowser), and
 * its microphone: Chromium's fake capture file, or the engine's private PulseAudio playing the
 * same WAV from the moment the visitor presses the button.
 */
export interface EnginePage {
  engine: Engine;
  /** Evaluate a JavaScript expression in the page; its value comes back as JSON. */
  evaluate<T>(expression: string): Promise<T>;
  /** Click the element matching `selector`, as a visitor would (a real input event). */
  click(selector: string): Promise<void>;
  /** Start playing the journey's microphone WAV, looped (a no-op in Chromium, which loops it from capture). */
  startMicrophone(): void;
  close(): Promise<void>;
}

/** Services an engine needs for a whole test file: the sound server, and WebKit's display and driver. */
export interface EngineServices {
  engine: Engine;
  sound?: SoundServer;
  display?: Display;
  driver?: WebKitDriver;
  firefox?: Browser;
  stop(): Promise<void>;
}

export async function startEngineServices(engine: Engine, name: string): Promise<EngineServices> {
  const services: EngineServices = {
    engine,
    async stop() {
      await services.firefox?.close().catch(() => {});
      await services.driver?.stop();
      await services.display?.stop();
      await services.sound?.stop();
    },
  };
  try {
    requireEngine(engine);
    if (engine === 'chromium') return services;
    services.sound = await startSoundServer(`${name}-${engine}`);
    if (engine === 'firefox') {
      services.firefox = await firefox.launch(firefoxLaunchOptions(`${name}-${engine}`));
    } else {
      services.display = await startDisplay();
      services.driver = await startWebKitDriver(freePortSync(), {
        DISPLAY: services.display.display,
        PULSE_SERVER: services.sound.server,
      });
    }
    return services;
  } catch (error) {
    await services.stop();
    throw error;
  }
}

export async function openEnginePage(
  services: EngineServices,
  url: string,
  micWav: string,
): Promise<EnginePage> {
  const { engine } = services;
  if (engine === 'chromium' || engine === 'firefox') {
    let browser: Browser | undefined;
    let page: Page;
    if (engine === 'chromium') {
      browser = await chromium.launch({
        executablePath: chromiumExecutable(),
        args: chromiumArgs({ fakeAudioFile: micWav }),
        headless: true,
      });
      page = await browser.newPage();
    } else {
      page = await services.firefox!.newPage();
    }
    await page.goto(url);
    await page.waitForFunction(() => window.__voicewire !== undefined);
    let mic: { stop(): void } | undefined;
    return {
      engine,
      evaluate: (expression) => page.evaluate(expression),
      click: (selector) => page.click(selector),
      startMicrophone() {
        if (engine === 'firefox') mic = playWav(services.sound!, micWav);
      },
      async close() {
        mic?.stop();
        await page.close().catch(() => {});
        await browser?.close();
      },
    };
  }
  const browser = await remote({
    hostname: '127.0.0.1',
    port: services.driver!.port,
    logLevel: 'silent',
    capabilities: { browserName: 'MiniBrowser', ...webkitCapabilities() } as WebdriverIO.Capabilities,
  });
  await browser.url(url);
  await browser.waitUntil(() => browser.execute(() => window.__voicewire !== undefined), { timeout: 30_000 });
  let mic: { stop(): void } | undefined;
  return {
    engine,
    // biome-ignore lint/security/noGlobalEval: the journeys' own expressions, evaluated in the test page.
    evaluate: (expression) => browser.execute((source: string) => globalThis.eval(source), expression),
    async click(selector) {
      await browser.$(selector).click();
    },
    startMicrophone() {
      mic = playWav(services.sound!, micWav);
    },
    async close() {
      mic?.stop();
      await browser.deleteSession().catch(() => {});
    },
  };
}

function playWav(sound: SoundServer, path: string): { stop(): void } {
  // Looped, as Chromium loops its fake capture file: every engine hears the same signal.
  return sound.play(decodeWav16(readFileSync(path)).samples, { loop: true });
}
