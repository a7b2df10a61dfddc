import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { webdriverio } from '@vitest/browser-webdriverio';
import { encodeWav16 } from './audio.ts';
import './engineContext.ts';
import { chromiumArgs, chromiumExecutable } from './chromium.ts';
import {
  type Engine,
  firefoxLaunchOptions,
  freePortSync,
  microphoneCommands,
  PULSE_RATE,
  webkitCapabilities,
  webkitRequestTransform,
} from './engines.ts';

export const ENGINES: readonly Engine[] = ['chromium', 'firefox', 'webkit'];

/**
 * The vitest group (`sequence.groupOrder`) an engine's browser projects run in: Chromium's with
 * the Node projects first, then Firefox's, then WebKit's, each engine's group alone rather than
 * three browsers' audio threads at once on a 2-core machine. (Node suites beside the Firefox and
 * WebKit groups were tried: at load 20 they made real-time audio tests there miss their budgets.)
 */
export function engineGroup(engine: Engine): number {
  return ENGINES.indexOf(engine);
}

/**
 * The echo suite's group (packages/integration/echo/vitest.echo.config.ts), after every engine's
 * browser projects: its three engines play real audio at once, each on its own sound server and
 * display, and nothing else's audio threads may run beside them.
 */
export const ECHO_GROUP_ORDER = ENGINES.length;

/** `name` for Chromium (the historic project names stay), `name-firefox`, `name-webkit`. */
export function projectName(name: string, engine: Engine): string {
  return engine === 'chromium' ? name : `${name}-${engine}`;
}

/**
 * The `test` options that run a browser project in `engine` with `micSamples` (mono, at
 * {@link PULSE_RATE}, looped) as the microphone: Chromium's fake capture file, or the private
 * PulseAudio that testing/engineGlobalSetup.ts starts for Firefox and WebKit (with Xvfb and
 * WebKitWebDriver for WebKit), so every engine hears the same signal.
 */
export function engineTestOptions(name: string, engine: Engine, micSamples: Float32Array) {
  const project = projectName(name, engine);
  const micFile = join(tmpdir(), `voicewire-${project}-mic-${process.pid}.wav`);
  // Chromium reads it when it starts, before any set-up runs: written at config load.
  writeFileSync(micFile, encodeWav16(micSamples, PULSE_RATE));
  const driverPort = engine === 'webkit' ? freePortSync() : 0;
  const provider =
    engine === 'chromium'
      ? playwright({
          launchOptions: {
            executablePath: chromiumExecutable(),
            args: chromiumArgs({ fakeAudioFile: micFile }),
          },
        })
      : engine === 'firefox'
        ? playwright({ launchOptions: firefoxLaunchOptions(project) })
        : webdriverio({
            hostname: '127.0.0.1',
            port: driverPort,
            capabilities: webkitCapabilities(),
            transformRequest: webkitRequestTransform,
          });
  return {
    name: project,
    provide: { engine, engineMicFile: micFile, engineDriverPort: driverPort, engineProject: project },
    globalSetup: engine === 'chromium' ? [] : [new URL('./engineGlobalSetup.ts', import.meta.url).pathname],
    // Real audio on a 2-core machine: the Firefox projects run after the Chromium ones, the
    // WebKit ones last, each engine's group alone (see engineGroup).
    sequence: { groupOrder: engineGroup(engine) },
    // WebDriver runs WebKit's projects one file at a time whatever this says; saying it lets a
    // one-file-at-a-time Node project share their group on any machine (equal maxWorkers).
    ...(engine === 'webkit' ? { maxWorkers: 1 } : {}),
    browser: {
      enabled: true,
      // MiniBrowser has no headless mode: it runs in the set-up's private Xvfb.
      headless: engine !== 'webkit',
      // A failure's screenshot of an audio test shows an empty page (and Firefox cannot take it).
      screenshotFailures: false,
      provider,
      instances: [{ browser: engine === 'webkit' ? ('safari' as const) : engine }],
      // Unplug and plug back the headset microphone of the project's private PulseAudio (Firefox
      // and WebKit): a real device removal, as the browser sees one.
      commands: engine === 'chromium' ? {} : microphoneCommands(project),
    },
  };
}
