import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumExecutable } from './chromium.ts';

/**
 * The three browser engines the tests drive, and what each needs on a Linux machine with no
 * browser downloads (scripts/setup.mjs installs them from Debian):
 *
 * - **Chromium** (`/usr/bin/chromium`) through Playwright, with its own fake microphone fed from
 *   a WAV file (testing/chromium.ts).
 * - **Firefox** (`/usr/bin/firefox-esr`) through Playwright's WebDriver BiDi channel. Its fake
 *   microphone is a fixed 1 kHz tone, and without an audio server its AudioContext never runs,
 *   so it gets a private PulseAudio: a null sink as the speakers, and a second null sink whose
 *   monitor is the default source, into which the tests play their WAV (`pacat`).
 * - **WebKit**: WebKitGTK's MiniBrowser through WebKitWebDriver, in a private Xvfb, with the same
 *   private PulseAudio (its mock microphone never stops, so a turn would never end).
 */
export type Engine = 'chromium' | 'firefox' | 'webkit';

export const FIREFOX_EXECUTABLE = '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** The rate of the private sound server's devices (and of the WAVs played into its microphone). */
export const PULSE_RATE = 48_000;

/** What the second microphone (`headset_microphone`) of the private sound server hears. */
export const HEADSET_TONE_HZ = 600;
export const HEADSET_TONE_AMPLITUDE = 0.1;

/** The two microphones of the private PulseAudio: each a remapped monitor of the sink fed to it. */
const MICROPHONE_SOURCES = {
  'built-in':
    'master=mic_feed.monitor source_name=microphone channels=1 source_properties=device.description=Built-in_microphone',
  headset:
    'master=headset_feed.monitor source_name=headset_microphone channels=1 source_properties=device.description=Headset_microphone',
} as const;
export type Microphone = keyof typeof MICROPHONE_SOURCES;

/** Where a project's private sound server keeps its socket (one per vitest project and run). */
export function pulseDir(name: string): string {
  return join(tmpdir(), `voicewire-pulse-${process.pid}-${name}`);
}

export function pulseServer(name: string): string {
  return `unix:${join(pulseDir(name), 'native')}`;
}

/** Firefox preferences: the real (PulseAudio) microphone without a prompt, autoplay allowed. */
export const FIREFOX_PREFS = {
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.cubeb.backend': 'pulse',
  'browser.shell.checkDefaultBrowser': false,
} as const;

/** Playwright's launch options for Firefox ESR, talking to the project's sound server. */
export function firefoxLaunchOptions(name: string) {
  return {
    channel: 'moz-firefox',
    executablePath: FIREFOX_EXECUTABLE,
    headless: true,
    firefoxUserPrefs: { ...FIREFOX_PREFS },
    env: { ...process.env, PULSE_SERVER: pulseServer(name) } as Record<string, string>,
  };
}

/** MiniBrowser's arguments: automation, media capture (the real device), autoplay allowed. */
export const MINIBROWSER_ARGS = [
  '--automation',
  '--enable-mock-capture-devices=false',
  '--enable-media-stream=true',
  '--autoplay-policy=allow',
];

/**
 * WebDriver capabilities for MiniBrowser. WebKitWebDriver matches `browserName` against
 * `MiniBrowser` only; webdriverio (and vitest's provider, which knows the engine as `safari`) sends
 * `safari`, so {@link webkitRequestTransform} renames it on the way out.
 */
export function webkitCapabilities() {
  return {
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: MINIBROWSER_ARGS },
  };
}

export function webkitRequestTransform(request: RequestInit): RequestInit {
  if (typeof request.body === 'string' && request.body.includes('"browserName":"safari"')) {
    return {
      ...request,
      body: request.body.replaceAll('"browserName":"safari"', '"browserName":"MiniBrowser"'),
    };
  }
  return request;
}

/** A free TCP port on 127.0.0.1, found synchronously (for a config file that needs it at load). */
export function freePortSync(): number {
  const script =
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      try {
        if (check()) resolve();
        else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
        else setTimeout(poll, 50);
      } catch (error) {
        reject(error);
      }
    };
    poll();
  });
}

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface SoundServer {
  /** `PULSE_SERVER` for the browser. */
  server: string;
  /** Run `pactl` against this server; returns its stdout. */
  pactl(...args: string[]): string;
  /**
   * Play mono float samples at {@link PULSE_RATE} into the microphone, in real time; `loop`
   * repeats them until `stop`. The returned promise settles when a non-looping play ends.
   */
  play(
    samples: Float32Array,
    options?: { loop?: boolean; microphone?: 'built-in' | 'headset' },
  ): { done: Promise<void>; stop(): void };
  stop(): Promise<void>;
}

/**
 * A private PulseAudio for one test project: `speakers` (a null sink, the default output),
 * `microphone` (the default input, the monitor of the null sink `mic_feed`, which the tests play
 * into) and a second input, `headset_microphone` (fed through `headset_feed`). It lives in its own directory with its own socket, so parallel runs never meet.
 */
export async function startSoundServer(name: string): Promise<SoundServer> {
  const dir = pulseDir(name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'runtime'), { recursive: true });
  // Everything at 48 kHz, as the tests' WAVs: no resampling between the WAV and the browser's
  // input stream, so every engine hears the same samples (PulseAudio's default is 44.1 kHz).
  mkdirSync(join(dir, '.config', 'pulse'), { recursive: true });
  writeFileSync(
    join(dir, '.config', 'pulse', 'daemon.conf'),
    `default-sample-rate = ${PULSE_RATE}\nalternate-sample-rate = ${PULSE_RATE}\n`,
  );
  const socket = join(dir, 'native');
  const server = `unix:${socket}`;
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: join(dir, 'runtime'), PULSE_SERVER: server };
  const daemon = spawn(
    'pulseaudio',
    [
      '-n',
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--use-pid-file=false',
      '--disable-shm=true',
      '--log-target=stderr',
      '--log-level=error',
      '-L',
      `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '-L',
      `module-null-sink sink_name=speakers rate=${PULSE_RATE} channels=2 sink_properties=device.description=Speakers`,
      // Two microphones, as on a laptop with a headset plugged in, so that switching the input
      // mid-call switches between two real capture devices (not to a monitor of the speakers).
      '-L',
      `module-null-sink sink_name=mic_feed rate=${PULSE_RATE} channels=1 sink_properties=device.description=Microphone_feed`,
      '-L',
      `module-remap-source ${MICROPHONE_SOURCES['built-in']}`,
      '-L',
      `module-null-sink sink_name=headset_feed rate=${PULSE_RATE} channels=1 sink_properties=device.description=Headset_feed`,
      '-L',
      `module-remap-source ${MICROPHONE_SOURCES.headset}`,
      '-L',
      'module-default-device-restore',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const pactl = (...args: string[]) => execFileSync('pactl', args, { env, encoding: 'utf8' });
  try {
    await waitUntil(
      () => {
        if (daemon.exitCode !== null) throw new Error(`pulseaudio exited: ${log}`);
        if (!existsSync(socket)) return false;
        try {
          pactl('info');
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      'pulseaudio',
    ).catch((error: Error) => {
      throw new Error(`${error.message} (${socket}): ${log}`);
    });
    pactl('set-default-sink', 'speakers');
    pactl('set-default-source', 'microphone');
  } catch (error) {
    await stopProcess(daemon);
    throw error;
  }
  const players = new Set<ChildProcess>();
  return {
    server,
    pactl,
    play(samples, options = {}) {
      const pcm = Buffer.alloc(samples.length * 2);
      for (let i = 0; i < samples.length; i++) {
        pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
      }
      const player = spawn(
        'pacat',
        [
          '--playback',
          `--device=${options.microphone === 'headset' ? 'headset_feed' : 'mic_feed'}`,
          '--format=s16le',
          `--rate=${PULSE_RATE}`,
          '--channels=1',
          '--raw',
          // A looped signal (a project's microphone tone) has a deep buffer: a pacat starved of
          // CPU on a loaded machine underruns a shallow one, and the microphone then hears the
          // tone broken by silence, quieter than it is. Speech played at a moment keeps it short.
          `--latency-msec=${options.loop ? 200 : 50}`,
        ],
        { env, stdio: ['pipe', 'ignore', 'ignore'] },
      );
      players.add(player);
      let stopped = false;
      const stdin = player.stdin!;
      stdin.on('error', () => {});
      const feed = () => {
        // pacat blocks on a full buffer, so the pipe's back pressure paces this in real time.
        while (!stopped && stdin.write(pcm)) if (!options.loop) break;
        if (stopped) return;
        if (options.loop) stdin.once('drain', feed);
        else stdin.end();
      };
      feed();
      const done = new Promise<void>((resolve) => {
        player.once('exit', () => {
          players.delete(player);
          resolve();
        });
      });
      return {
        done,
        stop() {
          stopped = true;
          player.kill('SIGTERM');
        },
      };
    },
    async stop() {
      for (const player of players) player.kill('SIGTERM');
      await stopProcess(daemon);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Display {
  /** `DISPLAY` for the browser, like `:99`. */
  display: string;
  stop(): Promise<void>;
}

/** A private X server (MiniBrowser needs a window); Xvfb picks a free display number itself. */
export async function startDisplay(): Promise<Display> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('timed out waiting for Xvfb')), 15_000);
    xvfb.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code}`));
    });
  });
  return { display, stop: () => stopProcess(xvfb) };
}

export interface WebKitDriver {
  port: number;
  stop(): Promise<void>;
}

/** WebKitWebDriver on `port`, its MiniBrowsers in `display` and on the given sound server. */
export async function startWebKitDriver(port: number, env: Record<string, string>): Promise<WebKitDriver> {
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stopProcess(driver);
      throw new Error('timed out waiting for WebKitWebDriver');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, stop: () => stopProcess(driver) };
}

/**
 * Throws a message that says what to install when something `engine` needs is missing (the
 * set-up script installs all of it as root: `npm test`).
 */
export function requireEngine(engine: Engine): void {
  const needs: [string, string][] =
    engine === 'chromium'
      ? []
      : [
          ['/usr/bin/pulseaudio', 'pulseaudio'],
          ['/usr/bin/pactl', 'pulseaudio-utils'],
          ...(engine === 'firefox'
            ? ([[FIREFOX_EXECUTABLE, 'firefox-esr']] as [string, string][])
            : ([
                [WEBKIT_DRIVER, 'webkit2gtk-driver'],
                [MINIBROWSER, 'libwebkit2gtk-4.1-0'],
                ['/usr/bin/Xvfb', 'xvfb'],
              ] as [string, string][])),
        ];
  const missing = needs.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    throw new Error(
      `The ${engine} tests need the Debian packages ${missing.join(', ')}: run \`npm test\` as root (scripts/setup.mjs installs them) or apt-get install them.`,
    );
  }
}

/** The executable each engine runs, for messages and the README's table. */
export function engineExecutable(engine: Engine): string | undefined {
  if (engine === 'chromium') return chromiumExecutable();
  if (engine === 'firefox') return FIREFOX_EXECUTABLE;
  return MINIBROWSER;
}

/**
 * Browser commands (vitest `commands.unplugMicrophone('headset')`, `commands.plugMicrophone(…)`)
 * that remove a microphone from a project's private PulseAudio and bring it back: a real device
 * removal, as the browser sees one.
 */
export function microphoneCommands(project: string) {
  const pactl = (...args: string[]) =>
    execFileSync('pactl', args, {
      env: { ...process.env, PULSE_SERVER: pulseServer(project) },
      encoding: 'utf8',
    });
  const sourceName = (microphone: Microphone) => MICROPHONE_SOURCES[microphone].split(' ')[1]!;
  return {
    unplugMicrophone(_context: unknown, microphone: Microphone) {
      const line = pactl('list', 'short', 'modules')
        .split('\n')
        .find((row) => row.includes('module-remap-source') && row.includes(sourceName(microphone)));
      if (!line) throw new Error(`the ${microphone} microphone is not plugged in`);
      pactl('unload-module', line.split('\t')[0]!);
    },
    plugMicrophone(_context: unknown, microphone: Microphone) {
      pactl('load-module', 'module-remap-source', ...MICROPHONE_SOURCES[microphone].split(' '));
      // Whichever came back, the built-in microphone stays the default: a headset plugged back
      // may otherwise become it, and the next test's default capture would hear its quiet tone.
      pactl('set-default-source', 'microphone');
    },
  };
}
