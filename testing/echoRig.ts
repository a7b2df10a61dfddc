import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium, firefox, type Page } from 'playwright';
import { remote } from 'webdriverio';
import { chromiumArgs, chromiumExecutable } from './chromium.ts';
import {
  type Engine,
  firefoxLaunchOptions,
  freePortSync,
  PULSE_RATE,
  requireEngine,
  type SoundServer,
  startDisplay,
  startSoundServer,
  startWebKitDriver,
  webkitCapabilities,
} from './engines.ts';

/**
 * Speakers, not headphones: the private PulseAudio of testing/engines.ts with whatever the
 * speakers play coming back into the microphone at full level {@link SPEAKER_ECHO_LATENCY_MS}
 * later (`module-loopback` from the speakers' monitor into the microphone's sink), as on a laptop
 * without headphones. The user's voice is played into the same sink, through one stream that
 * stays connected for the whole call ({@link VoiceFeed}).
 *
 * Every engine uses the sound server's devices: Firefox and WebKit as in the other suites, and
 * Chromium in a window on a private Xvfb (headless Chromium's output never reaches the sound
 * server) with its real devices instead of the fake ones.
 */
export const SPEAKER_ECHO_LATENCY_MS = 40;

/** Loop the speakers into the microphone, at full level. */
export function addSpeakerEcho(sound: SoundServer, latencyMs = SPEAKER_ECHO_LATENCY_MS): void {
  sound.pactl(
    'load-module',
    'module-loopback',
    'source=speakers.monitor',
    'sink=mic_feed',
    `latency_msec=${latencyMs}`,
  );
}

/**
 * The user's voice into the microphone: one stream for the whole call, playing silence between
 * sentences, so that speaking does not connect a new stream to the sound server at that moment
 * (a stream connecting to the microphone's sink made the looped-back echo jump there).
 */
export interface VoiceFeed {
  /** Queue mono samples at {@link PULSE_RATE}; resolves once they are all handed to the sound server. */
  say(samples: Float32Array): Promise<void>;
  stop(): void;
}

function startVoiceFeed(server: string): VoiceFeed {
  const player = spawn(
    'pacat',
    [
      '--playback',
      '--device=mic_feed',
      '--format=s16le',
      `--rate=${PULSE_RATE}`,
      '--channels=1',
      '--raw',
      '--latency-msec=50',
    ],
    { env: { ...process.env, PULSE_SERVER: server }, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  const chunkBytes = (PULSE_RATE / 50) * 2;
  const silence: Buffer = Buffer.alloc(chunkBytes);
  const queue: { pcm: Buffer; offset: number; resolve: () => void }[] = [];
  let stopped = false;
  const stdin = player.stdin!;
  stdin.on('error', () => {});
  // The pipe's back pressure paces this in real time (pacat blocks on a full buffer).
  const feed = () => {
    while (!stopped) {
      const head = queue[0];
      let chunk = silence;
      if (head !== undefined) {
        chunk = head.pcm.subarray(head.offset, head.offset + chunkBytes);
        head.offset += chunk.length;
        if (head.offset >= head.pcm.length) {
          queue.shift();
          head.resolve();
        }
      }
      if (!stdin.write(chunk)) {
        stdin.once('drain', feed);
        return;
      }
    }
  };
  feed();
  return {
    say(samples) {
      const pcm = Buffer.alloc(samples.length * 2);
      for (let i = 0; i < samples.length; i++) {
        pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
      }
      return new Promise((resolve) => queue.push({ pcm, offset: 0, resolve }));
    },
    stop() {
      stopped = true;
      for (const item of queue.splice(0)) item.resolve();
      player.kill('SIGTERM');
    },
  };
}

export interface EchoRig {
  engine: Engine;
  /** The engine's user agent. */
  userAgent: string;
  sound: SoundServer;
  /** The user speaking into the microphone. */
  voice: VoiceFeed;
  /** Call `globalThis[namespace][step](...args)` in the page (JSON in and out; promises awaited). */
  call<T>(step: string, ...args: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The rig for one engine: its sound server (with the speaker echo), the browser (and, for
 * Chromium and WebKit, a display) on it, and `url` open in it. `namespace` is the global the page
 * puts its steps on.
 */
export async function startEchoRig(
  engine: Engine,
  name: string,
  url: string,
  namespace: string,
): Promise<EchoRig> {
  requireEngine(engine);
  // Chromium too needs the sound server, and a display for its window.
  for (const [path, pkg] of [
    ['/usr/bin/pulseaudio', 'pulseaudio'],
    ['/usr/bin/pactl', 'pulseaudio-utils'],
    ['/usr/bin/Xvfb', 'xvfb'],
  ]) {
    if (!existsSync(path!))
      throw new Error(`The echo rig needs the Debian package ${pkg}: run \`npm test\` as root.`);
  }
  const closers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {});
  };
  try {
    const project = `${name}-${engine}`;
    const sound = await startSoundServer(project);
    closers.push(() => sound.stop());
    addSpeakerEcho(sound);
    const voice = startVoiceFeed(sound.server);
    closers.push(async () => voice.stop());
    if (engine === 'chromium' || engine === 'firefox') {
      let browser: Browser;
      if (engine === 'chromium') {
        const display = await startDisplay();
        closers.push(() => display.stop());
        browser = await chromium.launch({
          executablePath: chromiumExecutable(),
          headless: false,
          args: chromiumArgs({ fakeMicrophone: false }),
          env: { ...process.env, DISPLAY: display.display, PULSE_SERVER: sound.server } as Record<
            string,
            string
          >,
        });
      } else {
        browser = await firefox.launch(firefoxLaunchOptions(project));
      }
      closers.push(() => browser.close());
      const page: Page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction((ns) => ns in globalThis, namespace);
      return {
        engine,
        userAgent: await page.evaluate(() => navigator.userAgent),
        sound,
        voice,
        call: (step, ...args) =>
          page.evaluate(pageCall, [namespace, step, args] as [string, string, unknown[]]) as never,
        stop,
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
    await browser.waitUntil(() => browser.execute((ns: string) => ns in globalThis, namespace), {
      timeout: 30_000,
    });
    return {
      engine,
      userAgent: await browser.execute(() => navigator.userAgent),
      sound,
      voice,
      async call(step, ...args) {
        const result = await browser.executeAsync(
          (ns: string, stepName: string, stepArgs: unknown[], done: (value: unknown) => void) => {
            const steps = (
              globalThis as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>
            )[ns]!;
            Promise.resolve()
              .then(() => steps[stepName]!(...stepArgs))
              .then(
                (value) => done({ value }),
                (error: unknown) => done({ error: String(error) }),
              );
          },
          namespace,
          step,
          args,
        );
        const outcome = result as { value?: unknown; error?: string };
        if (outcome.error !== undefined) throw new Error(outcome.error);
        return outcome.value as never;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs in the page (Playwright serialises it). */
function pageCall([namespace, step, args]: [string, string, unknown[]]): unknown {
  const steps = (globalThis as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[
    namespace
  ]!;
  return steps[step]!(...args);
}
