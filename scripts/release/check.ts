/**
 * `pnpm release:check`: the packages as a user gets them, proved from outside the workspace.
 *
 * 1. Pack the three packages (`pnpm pack`: `prepack` builds dist/; `publishConfig.exports` drops
 *    the workspace-only `@voicewire/source` condition), into a temporary directory.
 * 2. Lint each tarball: publint (strict: warnings fail too), @arethetypeswrong/cli with the
 *    ESM-only profile (every JavaScript entry; the stylesheet and worklet files are not modules
 *    with types), and `npm publish --dry-run` (nothing is published).
 * 3. Install the consumer fixtures (fixtures/*) with npm from those tarballs, each into its own
 *    directory under the OS temp dir (no workspace, no pnpm, no links), and run them:
 *    - node: plain Node imports every entry, renders the components, runs the server's assets
 *      and bins (fixtures/node/check.mjs);
 *    - in each, every provider entry of @voicewire/core (`/playai`, `/openai`, `/elevenlabs`, and
 *      the later ones once the package exports them: scripts/release/providerEntries.ts) is
 *      imported and its factory run: in Node, in the Vite app's built page (and a conversation
 *      through each provider the installed agent speaks), in the Next.js app on the server and
 *      in a client component;
 *    - vite-app: strict `tsc` (with wrong uses that must be rejected), `vite build`, then headless
 *      Chromium with a fake microphone against the installed `voicewire-agent`: the greeting
 *      shows in the transcript and the agent's mp3 audio plays, measured by our own AnalyserNode
 *      on what reaches the speakers, not by the library's meter;
 *    - next-app: `next build` (Turbopack) of a Server Component page rendering the provider and
 *      the components, `next start`, the served HTML, and hydration in Chromium.
 *
 * Prints the timings and the tarballs' sizes, and writes them to artifacts/release-check.json.
 *
 *   pnpm release:check [--only node,vite-app,next-app] [--keep]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright';
import { encodeWav16 } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import {
  installedProviders,
  type ProviderEntry,
  type ProviderSplit,
  providerListProblems,
  writeProviderModule,
} from './providerEntries.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGES = ['core', 'react', 'server'] as const;
type PackageDir = (typeof PACKAGES)[number];
const FIXTURES = ['node', 'vite-app', 'next-app'] as const;
type Fixture = (typeof FIXTURES)[number];

const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const onlyArg = argv.find((arg, i) => argv[i - 1] === '--only' || arg.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.replace(/^--only=/, '').split(',')) : null;
const fixtures = FIXTURES.filter((name) => !only || only.has(name));

const GREETING = 'Hello from the installed voicewire agent.';

// ---------------------------------------------------------------------------------------------
// Helpers: timed steps, child processes, ports.

const timings: { step: string; seconds: number }[] = [];
const started = Date.now();

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  console.log(`▶ ${name}`);
  try {
    const result = await run();
    const seconds = (Date.now() - t0) / 1000;
    timings.push({ step: name, seconds });
    console.log(`✔ ${name} (${seconds.toFixed(1)} s)`);
    return result;
  } catch (error) {
    console.error(`✘ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    throw error;
  }
}

/** The environment for npm and the fixtures: none of pnpm's `npm_*` settings leak into them. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) env[key] = value;
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', CI: '1', ...extra };
}

interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Run a command to completion; its output is returned, and shown only if it fails. */
function run(command: string, args: string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${options.timeoutMs} ms\n${output}`));
    }, options.timeoutMs ?? 600_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${options.cwd}) exited with ${code ?? signal}:\n${output.slice(-8000)}`,
          ),
        );
    });
  });
}

/** Start a long-running command; resolves once `ready` matches its output. */
function startProcess(
  command: string,
  args: string[],
  options: RunOptions & { ready: RegExp },
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      child.kill('SIGKILL');
      reject(
        new Error(`${command} ${args.join(' ')} was not ready within ${options.timeoutMs} ms\n${output}`),
      );
    }, options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = options.ready.exec(output);
      if (match && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

// ---------------------------------------------------------------------------------------------
// 1–2. Pack and lint.

interface Tarball {
  name: string;
  dir: PackageDir;
  file: string;
  packedBytes: number;
  unpackedBytes: number;
  files: number;
}

async function pack(work: string): Promise<Record<PackageDir, Tarball>> {
  const destination = join(work, 'tarballs');
  mkdirSync(destination, { recursive: true });
  const tarballs = {} as Record<PackageDir, Tarball>;
  for (const dir of PACKAGES) {
    const cwd = join(root, 'packages', dir);
    const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    await run('pnpm', ['pack', '--pack-destination', destination], { cwd, env: process.env });
    const file = join(
      destination,
      `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`,
    );
    tarballs[dir] = {
      name: manifest.name,
      dir,
      file,
      packedBytes: statSync(file).size,
      unpackedBytes: 0,
      files: 0,
    };
  }
  return tarballs;
}

async function lint(tarball: Tarball, work: string): Promise<void> {
  // publint: errors and warnings both fail (suggestions are printed).
  const publint = await run('pnpm', ['exec', 'publint', 'run', tarball.file, '--strict'], {
    cwd: root,
    env: process.env,
  });
  check(
    /All good!|Suggestions:/.test(publint) && !/Errors:|Warnings:/.test(publint),
    `publint ${tarball.name}`,
  );
  // attw, ESM-only: every JavaScript entry must resolve, with types, for node16 ESM and bundlers.
  const exclude = tarball.dir === 'react' ? ['--exclude-entrypoints', './styles.css'] : [];
  await run(
    'pnpm',
    ['exec', 'attw', tarball.file, '--profile', 'esm-only', '--format', 'table', ...exclude],
    {
      cwd: root,
      env: process.env,
    },
  );
  // npm publish --dry-run of the very tarball: nothing is sent; npm checks and lists it.
  const dryRun = await run(
    'npm',
    [
      'publish',
      tarball.file,
      '--dry-run',
      '--access',
      'public',
      '--tag',
      'release-check',
      '--ignore-scripts',
    ],
    { cwd: work },
  );
  check(dryRun.includes(`+ ${tarball.name}@`), `npm publish --dry-run ${tarball.name}:\n${dryRun}`);
  tarball.unpackedBytes = parseSize(/unpacked size:\s*([\d.]+\s*[kMG]?B)/i.exec(dryRun)?.[1]);
  tarball.files = Number(/total files:\s*(\d+)/i.exec(dryRun)?.[1] ?? 0);
  // Only what a user needs: no tests, sources, configs or source maps.
  const listing = dryRun.split('\n').filter((line) => /npm notice [\d.]+[kMG]?B /.test(line));
  const stray = listing.filter((line) => /\/(test|src)\/|\.test\.|tsdown\.config|tsconfig|\.map$/.test(line));
  check(stray.length === 0, `${tarball.name} ships files it should not:\n${stray.join('\n')}`);
}

function parseSize(text: string | undefined): number {
  const match = /([\d.]+)\s*([kMG]?)B/.exec(text ?? '');
  if (!match) return 0;
  const scale = { '': 1, k: 1000, M: 1e6, G: 1e9 }[match[2] as '' | 'k' | 'M' | 'G'];
  return Math.round(Number(match[1]) * scale);
}

// ---------------------------------------------------------------------------------------------
// 3. Fixtures.

/** Copy a fixture out of the workspace and point its voicewire dependencies at the tarballs. */
function prepareFixture(name: Fixture, work: string, tarballs: Record<PackageDir, Tarball>): string {
  const dir = join(work, name);
  cpSync(join(root, 'fixtures', name), dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|public|\.next)([/\\]|$)/.test(source),
  });
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, Record<string, string>>;
  const byName = Object.fromEntries(Object.values(tarballs).map((t) => [t.name, `file:${t.file}`]));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const dep of Object.keys(manifest[field] ?? {})) {
      if (byName[dep]) manifest[field]![dep] = byName[dep]!;
    }
  }
  // Transitive ones too (@voicewire/react depends on @voicewire/core ^x.y.z): the fresh tarball,
  // never a published version from the registry.
  manifest.overrides = byName;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

async function npmInstall(dir: string): Promise<void> {
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    timeoutMs: 900_000,
  });
}

async function nodeFixture(dir: string): Promise<void> {
  const output = await run(process.execPath, ['check.mjs'], { cwd: dir, timeoutMs: 120_000 });
  process.stdout.write(output);
}

/**
 * A policy a careful site might send: scripts (worklets included) only from itself, WebAssembly
 * allowed, no `blob:` or `data:` anywhere a script could come from.
 */
const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' ws://127.0.0.1:*",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

/** Serve a directory of static files (what any host does with `vite build`'s output). */
async function serveStatic(dir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
    '.svg': 'image/svg+xml',
  };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      const headers: Record<string, string> = {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
      };
      if (new URL(request.url ?? '/', 'http://x').searchParams.has('csp')) {
        headers['content-security-policy'] = STRICT_CSP;
      }
      response.writeHead(200, headers);
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}/` };
}

/**
 * Installed in the page before any of its scripts: every node the page connects to the speakers
 * (`AudioDestinationNode`) is also connected to an AnalyserNode of ours, sampled every 20 ms.
 * What it hears is what the user hears, independent of the library's own level meter.
 */
const OUTPUT_TAP = `(() => {
  const taps = [];
  const windows = [];
  window.__voicewireTap = { windows, taps: () => taps.length };
  const connect = AudioNode.prototype.connect;
  AudioNode.prototype.connect = function (destination, ...rest) {
    const result = connect.call(this, destination, ...rest);
    if (typeof AudioDestinationNode !== 'undefined' && destination instanceof AudioDestinationNode) {
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 2048;
      connect.call(this, analyser);
      taps.push(analyser);
    }
    return result;
  };
  const buffer = new Float32Array(2048);
  setInterval(() => {
    let peak = 0;
    for (const analyser of taps) {
      if (analyser.context.state !== 'running') continue;
      analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (let i = 0; i < buffer.length; i++) sum += buffer[i] * buffer[i];
      peak = Math.max(peak, Math.sqrt(sum / buffer.length));
    }
    if (taps.length > 0) windows.push(peak);
  }, 20);
})();`;

async function viteFixture(
  dir: string,
  work: string,
  providers: ProviderSplit,
): Promise<Record<string, unknown>> {
  // Strict tsc: the app compiles, and every @ts-expect-error in src/wrongUses.tsx is needed.
  await step('vite-app: tsc (strict, skipLibCheck off, wrong uses rejected)', () =>
    run(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir }),
  );
  // The check above only means something if removing one @ts-expect-error breaks the build.
  await step('vite-app: tsc fails on a wrong use left unmarked', async () => {
    const wrong = join(dir, 'src', 'wrongUses.tsx');
    const original = readFileSync(wrong, 'utf8');
    writeFileSync(wrong, original.replace('// @ts-expect-error agentId is a string\n', ''));
    try {
      const failed = await run(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], {
        cwd: dir,
      }).then(
        () => null,
        (error: Error) => error.message,
      );
      check(failed?.includes("Type 'number' is not assignable to type 'string'"), `tsc accepted agentId: 42`);
    } finally {
      writeFileSync(wrong, original);
    }
  });
  // `npm run build`: copy the worklet files to public/ (for the CSP page), then `vite build`.
  await step('vite-app: vite build', () => run('npm', ['run', 'build'], { cwd: dir }));

  // The consumer's bundle: the mp3 decoder is a lazy chunk of its own, not in the entry.
  const assets = join(dir, 'dist', 'assets');
  const html = readFileSync(join(dir, 'dist', 'index.html'), 'utf8');
  const jsFiles = readdirSync(assets).filter((file) => file.endsWith('.js'));
  const entry = jsFiles.find((file) => html.includes(`/assets/${file}`));
  check(entry, 'the entry chunk is in index.html');
  // Vite names a chunk after the package it holds; the WASM inside makes it tens of KB.
  const decoderChunk = jsFiles.find((file) => file.startsWith('mpg123-decoder-'));
  check(decoderChunk && decoderChunk !== entry, 'the mp3 decoder (mpg123-decoder) is a chunk of its own');
  check(statSync(join(assets, decoderChunk)).size > 40_000, 'the mp3 decoder chunk holds the WASM');
  check(
    !readFileSync(join(assets, entry), 'utf8').includes('MPEGDecoderWebWorker'),
    'the entry has no decoder',
  );
  check(!html.includes(decoderChunk), 'index.html does not preload the mp3 decoder');
  const otherDecoders = jsFiles.filter((file) => /^(ogg-vorbis|flac)-/.test(file));
  check(otherDecoders.length === 2, `the ogg and flac decoders are chunks too (${otherDecoders.join(', ')})`);
  const bundle = {
    entryChunk: entry,
    entryBytes: statSync(join(assets, entry)).size,
    mp3DecoderChunk: decoderChunk,
    mp3DecoderBytes: statSync(join(assets, decoderChunk)).size,
  };
  console.log(
    `  entry ${entry} ${kb(bundle.entryBytes)} (React included); lazy: ${decoderChunk} ${kb(bundle.mp3DecoderBytes)}, ${otherDecoders.join(', ')}`,
  );

  const agentBin = join(dir, 'node_modules/.bin/voicewire-agent');
  // ElevenLabs' browser clients bring no key for a public agent; an agent that knows the flag
  // lets them in (a key given is still checked).
  const anonymous = (await run(agentBin, ['--help'], { cwd: dir })).includes('--allow-anonymous')
    ? ['--allow-anonymous']
    : [];
  const agent = await startProcess(
    agentBin,
    ['--port', '0', '--api-key', 'fixture-key', '--greeting', GREETING, ...anonymous],
    { cwd: dir, ready: /listening on (ws:\/\/\S+)\/<agentId>/, timeoutMs: 60_000 },
  );
  const agentUrl = agent.match[1]!;
  const site = await serveStatic(join(dir, 'dist'));
  // The microphone hears silence: the agent's voice detector must not take it for the user
  // talking over the greeting.
  const micFile = join(work, 'silence.wav');
  writeFileSync(micFile, encodeWav16(new Float32Array(48_000 * 2), 48_000));
  const browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: chromiumArgs({ fakeAudioFile: micFile }),
  });
  try {
    const result = await step(
      'vite-app: Chromium + fake mic against the installed voicewire-agent (mp3)',
      async () => {
        const page = await browser.newPage();
        await page.addInitScript(OUTPUT_TAP);
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));
        const requests: { url: string; at: number }[] = [];
        page.on('request', (request) => requests.push({ url: request.url(), at: Date.now() }));
        let setup: Record<string, unknown> | undefined;
        let audioMessages = 0;
        page.on('websocket', (socket) => {
          socket.on('framesent', ({ payload }) => {
            if (typeof payload === 'string' && payload.includes('"setup"')) setup = JSON.parse(payload);
          });
          socket.on('framereceived', ({ payload }) => {
            if (typeof payload === 'string' && payload.includes('"audioStream"')) audioMessages++;
          });
        });

        await page.goto(`${site.url}?server=${encodeURIComponent(agentUrl)}`);
        const button = page.getByRole('button', { name: 'Start conversation' });
        await button.waitFor();
        check((await button.getAttribute('aria-pressed')) === 'false', 'the button starts unpressed');
        const beforeClick = Date.now();
        const decoderBeforeClick = requests.filter((r) => r.url.includes(decoderChunk));
        check(
          decoderBeforeClick.length === 0,
          'the mp3 decoder is not fetched before the conversation starts',
        );

        await button.click();
        const log = page.getByRole('log');
        await log.getByText(GREETING).waitFor({ timeout: 60_000 });
        check(
          (await page.getByRole('button').first().getAttribute('aria-pressed')) === 'true',
          'pressed while on',
        );
        // The greeting's audio at the speakers: at least 300 ms of 20 ms windows above -40 dBFS.
        const loud = await page.waitForFunction(
          () => {
            const tap = (window as unknown as { __voicewireTap: { windows: number[] } }).__voicewireTap;
            const above = tap.windows.filter((rms) => rms > 0.01).length;
            return above >= 15 ? { above, peak: Math.max(...tap.windows) } : false;
          },
          undefined,
          { timeout: 30_000, polling: 100 },
        );
        const heard = (await loud.jsonValue()) as { above: number; peak: number };
        const decoderFetched = requests.find((r) => r.url.includes(decoderChunk));
        check(
          decoderFetched && decoderFetched.at >= beforeClick,
          'the mp3 decoder chunk was fetched after start()',
        );
        const unused = requests.filter((r) => otherDecoders.some((file) => r.url.includes(file)));
        check(
          unused.length === 0,
          `no ogg/flac decoder was fetched for an mp3 session (${unused.map((r) => r.url)})`,
        );
        check(setup?.outputFormat === 'mp3', `setup asked for mp3 (${JSON.stringify(setup)})`);
        check(audioMessages > 0, 'audioStream messages arrived');

        await page.getByRole('button').first().click();
        await page.getByRole('button', { name: 'Start conversation' }).waitFor({ timeout: 15_000 });
        check(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`);
        const result = {
          ...bundle,
          audioStreamMessages: audioMessages,
          windowsAboveMinus40dB: heard.above,
          peakRmsDb: Number((20 * Math.log10(heard.peak)).toFixed(1)),
        };
        console.log(
          `  greeting in the transcript; ${audioMessages} audioStream messages (mp3); ` +
            `${heard.above} windows of 20 ms above -40 dBFS at the speakers, peak ${result.peakRmsDb} dBFS`,
        );
        await page.close();
        return result;
      },
    );
    await step('vite-app: a strict CSP (no blob:/data: scripts) with the self-hosted worklets', () =>
      strictCsp(browser, `${site.url}?csp&server=${encodeURIComponent(agentUrl)}`),
    );
    await step('vite-app: every provider entry runs in the built page', () =>
      providerList(browser, `${site.url}?server=${encodeURIComponent(agentUrl)}`, providers, agentUrl),
    );
    const conversations: string[] = [];
    for (const entry of providers.present.filter((e) => e.id !== 'playai')) {
      if (!entry.typed) {
        console.log(
          `  note: ${entry.id}'s options are the check's guess (scripts/release/providerEntries.ts); no conversation through it`,
        );
        continue;
      }
      // The agent answers a plain GET of a WebSocket path it serves with 426.
      const probe = `${new URL(agentUrl).origin.replace(/^ws/, 'http')}${entry.path}`;
      const status = await fetch(probe).then(
        (response) => response.status,
        () => 0,
      );
      if (status !== 426) {
        console.log(
          `  note: the installed voicewire-agent does not speak ${entry.id} (GET ${entry.path}: ${status}); no conversation through it`,
        );
        continue;
      }
      await step(`vite-app: a conversation through ${entry.entry} with the installed voicewire-agent`, () =>
        providerConversation(browser, `${site.url}?server=${encodeURIComponent(agentUrl)}`, entry),
      );
      conversations.push(entry.id);
    }
    return { ...result, providers: providers.present.map((e) => e.id), conversations };
  } finally {
    await browser.close();
    site.server.close();
    await stopProcess(agent.child);
  }
}

/** The page's list of provider entries: each factory ran in the browser and named its socket. */
async function providerList(browser: Browser, url: string, providers: ProviderSplit, agentUrl: string) {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(url);
  const items = page.locator('li[data-provider]');
  await items.nth(providers.present.length - 1).waitFor({ timeout: 30_000 });
  const shown = Object.fromEntries(
    await items.evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-provider'), li.textContent])),
  ) as Record<string, string>;
  const problems = providerListProblems(shown, providers, new URL(agentUrl).origin);
  check(problems.length === 0, `the page's providers: ${problems.join('; ')}`);
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`);
  for (const entry of providers.present) console.log(`  ${entry.entry}: ${shown[entry.id]}`);
  await page.close();
}

/** `?provider=<id>`: the same app, one option changed, holds a conversation with the agent. */
async function providerConversation(browser: Browser, url: string, entry: ProviderEntry): Promise<void> {
  const page = await browser.newPage();
  await page.addInitScript(OUTPUT_TAP);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto(`${url}&provider=${entry.id}`);
  await page.getByRole('button', { name: 'Start conversation' }).click();
  await page.getByRole('log').getByText(GREETING).waitFor({ timeout: 60_000 });
  const loud = await page.waitForFunction(
    () => {
      const tap = (window as unknown as { __voicewireTap: { windows: number[] } }).__voicewireTap;
      const above = tap.windows.filter((rms) => rms > 0.01).length;
      return above >= 15 ? above : false;
    },
    undefined,
    { timeout: 30_000, polling: 100 },
  );
  const above = (await loud.jsonValue()) as number;
  check(
    sockets.length === 1 && new URL(sockets[0]!).pathname === entry.path,
    `one socket, on ${entry.path}: ${sockets.join(', ')}`,
  );
  await page.getByRole('button').first().click();
  await page.getByRole('button', { name: 'Start conversation' }).waitFor({ timeout: 15_000 });
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join('; ')}`);
  console.log(
    `  ${entry.id}: ${sockets[0]}: the greeting in the transcript, ${above} windows of 20 ms above -40 dBFS`,
  );
  await page.close();
}

/**
 * The page served with a Content-Security-Policy that allows scripts only from the site itself
 * (no `blob:`, no `data:`). With the default inline worklets the conversation cannot start, and
 * says why; with `worklets: { baseUrl }` pointing at the files copied from
 * `@voicewire/core/worklets/` (the fixture's `copy-worklets.mjs`), the greeting is heard.
 */
async function strictCsp(browser: Browser, url: string): Promise<void> {
  const violations: string[] = [];
  const open = async (query: string) => {
    const page = await browser.newPage();
    await page.addInitScript(OUTPUT_TAP);
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${url}${query}`);
    await page.getByRole('button', { name: 'Start conversation' }).click();
    return page;
  };

  // 1. Inline worklets (the default): refused by the policy, and the button's alert says so.
  const refused = await open('');
  const alert = refused.getByRole('alert').filter({ hasText: /\S/ });
  await alert.waitFor({ timeout: 30_000 });
  const message = (await alert.textContent()) ?? '';
  check(/worklet/i.test(message), `the error names the worklets: "${message}"`);
  await refused.close();

  // 2. Self-hosted worklet files: the conversation runs and the agent is heard.
  violations.length = 0;
  const page = await open('&worklets=/voicewire-worklets');
  await page.getByRole('log').getByText(GREETING).waitFor({ timeout: 60_000 });
  await page.waitForFunction(
    () => {
      const tap = (window as unknown as { __voicewireTap: { windows: number[] } }).__voicewireTap;
      return tap.windows.filter((rms) => rms > 0.01).length >= 15;
    },
    undefined,
    { timeout: 30_000, polling: 100 },
  );
  // Worklets are scripts (script-src). The mp3 decoder's blob: Web Worker is refused too (worker-src);
  // the library then decodes on the main thread, which the audio heard above proves.
  const workletViolations = violations.filter((text) => /script-src/.test(text));
  check(workletViolations.length === 0, `no worklet was blocked: ${workletViolations.join('; ')}`);
  await page.close();
  console.log(
    '  strict CSP: inline worklets refused with an error shown; self-hosted worklets: greeting heard',
  );
}

async function nextFixture(dir: string, providers: ProviderSplit): Promise<Record<string, unknown>> {
  await step('next-app: next build (Turbopack)', () =>
    run(join(dir, 'node_modules/.bin/next'), ['build'], { cwd: dir, timeoutMs: 900_000 }),
  );
  return step('next-app: next start, the HTML and hydration', async () => {
    const port = await freePort();
    const server = await startProcess(
      join(dir, 'node_modules/.bin/next'),
      ['start', '--port', String(port), '--hostname', '127.0.0.1'],
      { cwd: dir, ready: /Ready in|started server|Local:/i, timeoutMs: 120_000 },
    );
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: chromiumArgs() });
    try {
      const url = `http://127.0.0.1:${port}/`;
      const response = await fetch(url);
      const html = await response.text();
      check(response.status === 200, `GET / answered ${response.status}`);
      check(
        /<button[^>]*aria-pressed="false"[^>]*>/.test(html),
        'the HTML has the talk button (aria-pressed)',
      );
      check(html.includes('Start conversation'), 'the button is labelled');
      check(/role="log"/.test(html), 'the HTML has the transcript (role=log)');
      check(/role="meter"/.test(html), 'the HTML has the level meter (role=meter)');
      check(html.includes('data-server-state="idle"'), 'the Server Component ran a plain helper');
      // Each provider entry ran on the server: its factory's provider named its socket.
      const shown: Record<string, string> = {};
      for (const [, id, text] of html
        .replace(/<!-- -->/g, '')
        .matchAll(/<li data-provider="([^"]+)">(.*?)<\/li>/g))
        shown[id!] = text!;
      const wrong = providerListProblems(shown, providers, 'ws://127.0.0.1:8787');
      check(wrong.length === 0, `the Server Component's providers: ${wrong.join('; ')}`);
      const buttons = [...html.matchAll(/data-provider-button="([^"]+)"/g)].map((match) => match[1]);
      check(
        buttons.join() === providers.present.map((e) => e.id).join(),
        `a talk button per provider in the client component (${buttons.join(', ')})`,
      );

      // Hydration: the page's client components take over the server HTML without a mismatch.
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        // Failed requests are checked below by URL (the fixture has no favicon, on purpose).
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
          problems.push(message.text());
        }
      });
      page.on('response', (response) => {
        if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
          problems.push(`${response.status()} ${response.url()}`);
        }
      });
      await page.goto(url, { waitUntil: 'networkidle' });
      const hydrated = await page.waitForFunction(
        () => {
          const button = document.querySelector('button[aria-pressed]');
          return Boolean(button && Object.keys(button).some((key) => key.startsWith('__reactFiber')));
        },
        undefined,
        { timeout: 30_000 },
      );
      check(await hydrated.jsonValue(), 'the button hydrated');
      for (const entry of providers.present) {
        const name = `Talk through ${entry.id}`;
        check((await page.getByRole('button', { name }).count()) === 1, `"${name}" after hydration`);
      }
      check(problems.length === 0, `no errors in the browser: ${problems.join('; ')}`);
      console.log(
        `  ${kb(html.length)} of HTML with the button, the meter and the log; hydrated without errors`,
      );
      for (const entry of providers.present) console.log(`  server: ${entry.entry}: ${shown[entry.id]}`);
      return { htmlBytes: html.length, providers: providers.present.map((e) => e.id) };
    } finally {
      await browser.close();
      await stopProcess(server.child);
    }
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'voicewire-release-'));
  console.log(`release check in ${work}${keep ? ' (kept)' : ''}`);
  const results: Record<string, unknown> = {};
  let ok = false;
  try {
    const tarballs = await step('pack @voicewire/core, react, server (prepack builds dist/)', () =>
      pack(work),
    );
    for (const tarball of Object.values(tarballs)) {
      await step(`lint ${tarball.name}: publint, attw --profile esm-only, npm publish --dry-run`, () =>
        lint(tarball, work),
      );
    }

    const dirs = Object.fromEntries(
      fixtures.map((name) => [name, prepareFixture(name, work, tarballs)]),
    ) as Record<Fixture, string>;
    // The installs are mostly network and disk: run them together.
    await step(`npm install from the tarballs: ${fixtures.join(', ')}`, () =>
      Promise.all(fixtures.map((name) => npmInstall(dirs[name]))),
    );
    // Each fixture imports the provider entries its @voicewire/core exports; the others are noted.
    const providers = {} as Record<Fixture, ProviderSplit>;
    for (const name of fixtures) {
      providers[name] = installedProviders(dirs[name]);
      writeProviderModule(name, dirs[name], providers[name]);
    }
    const split = providers[fixtures[0]!];
    if (split) {
      console.log(`provider entries: ${split.present.map((e) => e.entry).join(', ')}`);
      if (split.missing.length > 0)
        console.log(
          `  note: not in @voicewire/core's exports yet, skipped: ${split.missing.map((e) => e.entry).join(', ')}`,
        );
    }
    results.providers = split?.present.map((e) => e.id);
    if (dirs.node)
      await step('node: plain Node imports, renders, runs the server', () => nodeFixture(dirs.node));
    if (dirs['vite-app'])
      results['vite-app'] = await viteFixture(dirs['vite-app'], work, providers['vite-app']);
    if (dirs['next-app']) results['next-app'] = await nextFixture(dirs['next-app'], providers['next-app']);

    console.log('\nTarballs');
    for (const t of Object.values(tarballs)) {
      console.log(
        `  ${t.name.padEnd(18)} packed ${kb(t.packedBytes).padStart(9)}  unpacked ${kb(t.unpackedBytes).padStart(9)}  ${t.files} files`,
      );
    }
    results.tarballs = Object.values(tarballs).map(({ name, packedBytes, unpackedBytes, files }) => ({
      name,
      packedBytes,
      unpackedBytes,
      files,
    }));
    ok = true;
  } finally {
    const total = (Date.now() - started) / 1000;
    console.log('\nTimings');
    for (const { step: name, seconds } of timings)
      console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${name}`);
    console.log(`  ${total.toFixed(1).padStart(6)} s  total${ok ? '' : ' (failed)'}`);
    mkdirSync(join(root, 'artifacts'), { recursive: true });
    writeFileSync(
      join(root, 'artifacts', 'release-check.json'),
      `${JSON.stringify({ ok, generatedAt: new Date().toISOString(), timings, totalSeconds: total, results }, null, 2)}\n`,
    );
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
    console.log(`written ${relative(root, join(root, 'artifacts', 'release-check.json'))}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
