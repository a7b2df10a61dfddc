/**
 * Open a benchmark page in Chromium, Firefox or WebKit and call its steps, the same way the
 * browser tests drive the engines (testing/engines.ts): Chromium with its fake microphone,
 * Firefox and WebKit with a private PulseAudio whose microphone plays the same WAV (and WebKit's
 * MiniBrowser through WebKitWebDriver in a private Xvfb).
 */
import { chromium, firefox } from 'playwright';
import { remote } from 'webdriverio';
import { encodeWav16 } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import {
  type Engine,
  firefoxLaunchOptions,
  freePortSync,
  PULSE_RATE,
  startDisplay,
  startSoundServer,
  startWebKitDriver,
  webkitCapabilities,
} from '../../testing/engines.ts';

export interface BenchPage {
  engine: Engine;
  /** The engine's user agent (its version goes into the tables). */
  userAgent: string;
  /** Call `globalThis.voicewireBench[step](...args)` in the page (JSON in, JSON out). */
  call<T>(step: string, ...args: unknown[]): Promise<T>;
  /** Chromium only: the page's total main-thread task time in seconds (DevTools Protocol). */
  taskSeconds?: () => Promise<number>;
  close(): Promise<void>;
}

/** `mic` (mono, {@link PULSE_RATE}) loops as the microphone; `writeMic` writes it for Chromium. */
export async function openBenchPage(
  engine: Engine,
  url: string,
  mic: Float32Array,
  writeMic: (wav: Uint8Array) => string,
): Promise<BenchPage> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {});
  };
  try {
    if (engine === 'chromium') {
      const file = writeMic(encodeWav16(mic, PULSE_RATE));
      const browser = await chromium.launch({
        executablePath: chromiumExecutable(),
        args: chromiumArgs({ fakeAudioFile: file }),
      });
      closers.push(() => browser.close());
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction(() => 'voicewireBench' in globalThis);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      return {
        engine,
        userAgent: await page.evaluate(() => navigator.userAgent),
        call: (step, ...args) => page.evaluate(pageCall, [step, args] as [string, unknown[]]) as never,
        async taskSeconds() {
          const { metrics } = await cdp.send('Performance.getMetrics');
          return metrics.find((m) => m.name === 'TaskDuration')?.value ?? Number.NaN;
        },
        close,
      };
    }
    const name = `bench-${engine}`;
    const sound = await startSoundServer(name);
    closers.push(() => sound.stop());
    const playing = sound.play(mic, { loop: true });
    closers.push(async () => playing.stop());
    if (engine === 'firefox') {
      const browser = await firefox.launch(firefoxLaunchOptions(name));
      closers.push(() => browser.close());
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction(() => 'voicewireBench' in globalThis);
      return {
        engine,
        userAgent: await page.evaluate(() => navigator.userAgent),
        call: (step, ...args) => page.evaluate(pageCall, [step, args] as [string, unknown[]]) as never,
        close,
      };
    }
    const display = await startDisplay();
    closers.push(() => display.stop());
    const driver = await startWebKitDriver(freePortSync(), {
      DISPLAY: display.display,
      PULSE_SERVER: sound.server,
    });
    closers.push(() => driver.stop());
    const browser = await remote({
      hostname: '127.0.0.1',
      port: driver.port,
      logLevel: 'silent',
      capabilities: { browserName: 'MiniBrowser', ...webkitCapabilities() } as WebdriverIO.Capabilities,
    });
    closers.push(() => browser.deleteSession());
    await browser.setTimeout({ script: 120_000 });
    await browser.url(url);
    await browser.waitUntil(() => browser.execute(() => 'voicewireBench' in globalThis), { timeout: 30_000 });
    return {
      engine,
      userAgent: await browser.execute(() => navigator.userAgent),
      call: async (step, ...args) => {
        const result = await browser.executeAsync(
          (stepName: string, stepArgs: unknown[], done: (value: unknown) => void) => {
            const steps = (
              globalThis as unknown as { voicewireBench: Record<string, (...a: unknown[]) => unknown> }
            ).voicewireBench;
            Promise.resolve(steps[stepName]!(...stepArgs)).then(
              (value) => done({ value }),
              (error: unknown) => done({ error: String(error) }),
            );
          },
          step,
          args,
        );
        const outcome = result as { value?: unknown; error?: string };
        if (outcome.error !== undefined) throw new Error(outcome.error);
        return outcome.value as never;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs in the page (Playwright serialises it). */
function pageCall([step, args]: [string, unknown[]]): unknown {
  const steps = (globalThis as unknown as { voicewireBench: Record<string, (...a: unknown[]) => unknown> })
    .voicewireBench;
  return steps[step]!(...args);
}
