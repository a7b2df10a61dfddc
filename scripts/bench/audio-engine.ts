/**
 * Browser audio engine, measured in headless Chromium (the same Debian Chromium the tests use,
 * with a fake microphone): first agent audio per output format, interrupt() → silence, the
 * main thread's cost per second of conversation, and capture frame latency. Printed beside
 * the targets of the README's "Measured" table.
 *
 * The page is the library bundled by esbuild (production-like: minified, the WASM decoders in
 * their own lazily loaded chunks) and served from 127.0.0.1; the agent's audio is encoded in
 * Node by the local agent's own encoders.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright';
import type { OutputFormat } from '../../packages/core/src/index.ts';
import { createOutputEncoder } from '../../packages/server/src/audio/createOutputEncoder.ts';
import { encodeWav16, tone } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import type { FirstAudioResult } from './_audio-engine-page.ts';
import type { BenchSection } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const FORMATS: OutputFormat[] = ['raw', 'wav', 'mulaw', 'mp3', 'ogg', 'flac'];
/** The protocol's default output rate. */
const AGENT_RATE = 44_100;
const RUNS = 3;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Speech-like test audio: a tone, cut into the chunks the local agent's encoder emits per 20 ms. */
async function encodedParts(format: OutputFormat, seconds: number): Promise<string[]> {
  const encoder = await createOutputEncoder(format, AGENT_RATE);
  const signal = tone(440, seconds, AGENT_RATE, 0.5);
  const step = Math.round(AGENT_RATE / 50);
  const parts: string[] = [];
  for (let i = 0; i < signal.length; i += step)
    parts.push(Buffer.from(encoder.encode(signal.subarray(i, i + step))).toString('base64'));
  parts.push(Buffer.from(encoder.finish()).toString('base64'));
  return parts;
}

export async function run(): Promise<BenchSection[]> {
  const work = mkdtempSync(join(tmpdir(), 'voicewire-bench-audio-'));
  const server = createServer((request, response) => {
    const path = request.url === '/' ? '/index.html' : (request.url ?? '/').split('?')[0]!;
    try {
      const body = readFileSync(join(work, path));
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }[
        extname(path)
      ];
      response.writeHead(200, { 'content-type': type ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  const browser = await (async () => {
    await build({
      entryPoints: [join(here, '_audio-engine-page.ts')],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      outdir: work,
      entryNames: 'page',
      logLevel: 'silent',
    });
    writeFileSync(join(work, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
    const mic = join(work, 'mic.wav');
    writeFileSync(mic, encodeWav16(tone(1000, 2, 48_000, 0.25), 48_000));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return chromium.launch({
      executablePath: chromiumExecutable(),
      args: chromiumArgs({ fakeAudioFile: mic }),
    });
  })();

  try {
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'voicewireBench' in globalThis);
    type Bench = {
      firstAudio(format: OutputFormat, rate: number, parts: string[]): Promise<FirstAudioResult>;
      interruption(): Promise<{ audioMs: number; confirmedWallMs: number }>;
      prepare(format: OutputFormat, rate: number): Promise<void>;
      feed(parts: string[]): Promise<{ seconds: number; syncMs: number }>;
      finish(): Promise<void>;
      captureLatency(): Promise<{ deliveryMs: number[]; frameMs: number }>;
    };
    /** Call one of the page's benchmark steps (arguments and results cross as JSON). */
    const call = <K extends keyof Bench>(name: K, ...args: Parameters<Bench[K]>) =>
      page.evaluate(
        ([step, stepArgs]) => {
          const steps = (
            globalThis as unknown as { voicewireBench: Record<string, (...a: unknown[]) => unknown> }
          ).voicewireBench;
          return steps[step]!(...stepArgs);
        },
        [name, args] as [string, unknown[]],
      ) as Promise<Awaited<ReturnType<Bench[K]>>>;

    // 1. First agent audio.
    const firstRows: (string | number)[][] = [];
    for (const format of FORMATS) {
      const parts = await encodedParts(format, 1);
      const runs: FirstAudioResult[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await call('firstAudio', format, AGENT_RATE, parts));
      const target = format === 'mp3' || format === 'ogg' || format === 'flac' ? 100 : 60;
      const firstChunk = Buffer.from(parts.find((p) => p.length > 0) ?? '', 'base64').length;
      firstRows.push([
        format,
        firstChunk,
        median(runs.map((r) => r.toAudibleMs)),
        median(runs.map((r) => r.toStartedEventMs)),
        `≤ ${target}`,
      ]);
    }

    // 2. Interruption.
    const interrupts: { audioMs: number; confirmedWallMs: number }[] = [];
    for (let r = 0; r < 5; r++) interrupts.push(await call('interruption'));

    // 3. Main thread per second of conversation (CDP's TaskDuration: all main-thread work).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const taskSeconds = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'TaskDuration')?.value ?? Number.NaN;
    };
    const idleStart = await taskSeconds();
    await page.waitForTimeout(2000);
    const idlePerSecond = ((await taskSeconds()) - idleStart) / 2;
    const mainRows: (string | number)[][] = [];
    for (const format of FORMATS) {
      const parts = await encodedParts(format, 3);
      await call('prepare', format, AGENT_RATE);
      const before = await taskSeconds();
      const t0 = Date.now();
      const { seconds, syncMs } = await call('feed', parts);
      const wall = (Date.now() - t0) / 1000;
      const busy = (await taskSeconds()) - before - idlePerSecond * wall;
      await call('finish');
      mainRows.push([format, seconds, (busy * 1000) / seconds, syncMs / seconds]);
    }

    // 4. Capture frame latency.
    const capture = await call('captureLatency');

    return [
      {
        title: `First agent audio after the first chunk (headless Chromium, ${AGENT_RATE} Hz stream, median of ${RUNS})`,
        headers: [
          'format',
          'first chunk bytes',
          'enqueue → audible (ms audio time)',
          'enqueue → started event (ms wall)',
          'target ms',
        ],
        rows: firstRows,
        notes: [
          'The player is created (and its WASM decoder loaded) before the first chunk, as a conversation does at connect time.',
          'Audible = first sample above −40 dBFS on a tap at the player output, on the context clock; the device output latency (AudioContext.outputLatency) comes on top and is the same for any player.',
          'mp3 includes the encoder priming (LAME: ~1100 samples of near-silence at the start of the stream).',
          'Chunks after the first arrive every 20 ms, as the local agent sends them.',
        ],
      },
      {
        title: 'interrupt() → output silent (5 runs)',
        headers: ['measure', 'median ms', 'max ms', 'target ms'],
        rows: [
          [
            'interrupt() → below −60 dBFS (audio time)',
            median(interrupts.map((i) => i.audioMs)),
            Math.max(...interrupts.map((i) => i.audioMs)),
            '≤ 10 (fade ≤ 5)',
          ],
          [
            'interrupt() → main thread told it is silent (wall)',
            median(interrupts.map((i) => i.confirmedWallMs)),
            Math.max(...interrupts.map((i) => i.confirmedWallMs)),
            '—',
          ],
        ],
        notes: [
          'Audio time: the context frame where the worklet’s 4 ms fade ends, minus AudioContext.currentTime when interrupt() was called.',
        ],
      },
      {
        title: 'Main-thread time per second of conversation (agent audio + microphone, no socket)',
        headers: [
          'output format',
          'seconds fed',
          'all main-thread tasks, ms per s',
          'our synchronous work, ms per s',
        ],
        rows: mainRows,
        notes: [
          'All main-thread tasks: Chrome DevTools Protocol TaskDuration over the steady part of the call (set-up and tear-down excluded), minus the idle page’s rate. It includes everything: the message loop and timers of the feeding itself, worklet port messages, the decoders’ async work (Vorbis decodes on the main thread; mp3/FLAC in a Web Worker, so only the hand-off), the microtask that resamples and posts, GC.',
          'Our synchronous work: performance.now() around JSON.parse + base64 + player.enqueue() of each audioStream message and around base64 + JSON.stringify of each audioIn frame.',
          `Idle page: ${(idlePerSecond * 1000).toFixed(1)} ms per s (subtracted). Shared 2-core machine: expect noise.`,
        ],
      },
      {
        title: 'Capture frame latency (20 ms linear16 frames at 16 kHz)',
        headers: ['measure', 'median ms', 'p95 ms', 'target'],
        rows: [
          ['frame length (buffering by design)', 20, 20, '20 ms frames, no extra buffering'],
          [
            'last sample captured → onFrame on the main thread',
            median(capture.deliveryMs),
            percentile(capture.deliveryMs, 0.95),
            '—',
          ],
        ],
        notes: [
          'Delivery: AudioContext.currentTime when onFrame runs minus the context time just after the quantum that completed the frame (the worklet stamps it), so it is measured on the render clock, in steps of the render burst. The microphone’s own input latency (device and OS) comes before and is not visible to the page.',
        ],
      },
    ];
  } finally {
    await browser.close();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
