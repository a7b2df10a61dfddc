/**
 * Browser audio engine, measured in the three engines the tests drive (testing/engines.ts):
 * Debian's Chromium, Firefox ESR and WebKitGTK's MiniBrowser, side by side. First agent audio per
 * output format, interrupt() → silence, and capture frame delivery, all taken from the audio
 * signal on the context clock; plus the main thread's cost per second of conversation (Chromium:
 * it needs the DevTools Protocol). Printed beside the targets of the README's
 * "Measured" table.
 *
 * The page is the library bundled by esbuild (production-like: minified, the WASM decoders in
 * their own lazily loaded chunks) and served from 127.0.0.1; the agent's audio is encoded in
 * Node by the local agent's own encoders. `VOICEWIRE_BENCH_ENGINES=chromium,firefox` picks engines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { OutputFormat as AudioFormat } from '../../packages/core/src/providers/playai/index.ts';
import { createOutputEncoder } from '../../packages/server/src/audio/createOutputEncoder.ts';
import { tone } from '../../testing/audio.ts';
import type { Engine } from '../../testing/engines.ts';
import type { FirstAudioResult } from './_audio-engine-page.ts';
import { type BenchPage, openBenchPage } from './_engines.ts';
import type { BenchSection } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const FORMATS: AudioFormat[] = ['raw', 'wav', 'mulaw', 'mp3', 'ogg', 'flac'];
const ALL_ENGINES: Engine[] = ['chromium', 'firefox', 'webkit'];
/** The protocol's default output rate. */
const AGENT_RATE = 44_100;
const RUNS = 3;
const INTERRUPTS = 5;

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
async function encodedParts(format: AudioFormat, seconds: number): Promise<string[]> {
  const encoder = await createOutputEncoder(format, AGENT_RATE);
  const signal = tone(440, seconds, AGENT_RATE, 0.5);
  const step = Math.round(AGENT_RATE / 50);
  const parts: string[] = [];
  for (let i = 0; i < signal.length; i += step)
    parts.push(Buffer.from(encoder.encode(signal.subarray(i, i + step))).toString('base64'));
  parts.push(Buffer.from(encoder.finish()).toString('base64'));
  return parts;
}

interface EngineResult {
  engine: Engine;
  version: string;
  firstAudio: Map<AudioFormat, { audibleMs: number; startedMs: number }>;
  interrupts: number[];
  confirmedWallMs: number[];
  captureDeliveryMs: number[];
  mainRows?: (string | number)[][];
  idlePerSecond?: number;
}

/** "Chromium 156", "Firefox 153", "WebKit 605.1.15 (Safari 60.5)" from the user agent. */
function engineVersion(engine: Engine, userAgent: string): string {
  if (engine === 'chromium') return `Chromium ${/Chrome\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  if (engine === 'firefox') return `Firefox ${/Firefox\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  return `WebKitGTK MiniBrowser (${/AppleWebKit\/([\d.]+)/.exec(userAgent)?.[1] ?? '?'})`;
}

async function measure(page: BenchPage): Promise<EngineResult> {
  const call = <T>(step: string, ...args: unknown[]) => page.call<T>(step, ...args);
  const result: EngineResult = {
    engine: page.engine,
    version: engineVersion(page.engine, page.userAgent),
    firstAudio: new Map(),
    interrupts: [],
    confirmedWallMs: [],
    captureDeliveryMs: [],
  };
  for (const format of FORMATS) {
    const parts = await encodedParts(format, 1);
    const runs: FirstAudioResult[] = [];
    for (let r = 0; r < RUNS; r++)
      runs.push(await call<FirstAudioResult>('firstAudio', format, AGENT_RATE, parts));
    result.firstAudio.set(format, {
      audibleMs: median(runs.map((r) => r.toAudibleMs)),
      startedMs: median(runs.map((r) => r.toStartedEventMs)),
    });
  }
  for (let r = 0; r < INTERRUPTS; r++) {
    const { audioMs, confirmedWallMs } = await call<{ audioMs: number; confirmedWallMs: number }>(
      'interruption',
    );
    result.interrupts.push(audioMs);
    result.confirmedWallMs.push(confirmedWallMs);
  }
  result.captureDeliveryMs = (await call<{ deliveryMs: number[] }>('captureLatency')).deliveryMs;

  const taskSeconds = page.taskSeconds;
  if (taskSeconds) {
    // Main thread per second of conversation (CDP's TaskDuration: all main-thread work).
    const idleStart = await taskSeconds();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idlePerSecond = ((await taskSeconds()) - idleStart) / 2;
    const mainRows: (string | number)[][] = [];
    for (const format of FORMATS) {
      const parts = await encodedParts(format, 3);
      await call('prepare', format, AGENT_RATE);
      const before = await taskSeconds();
      const t0 = Date.now();
      const { seconds, syncMs } = await call<{ seconds: number; syncMs: number }>('feed', parts);
      const wall = (Date.now() - t0) / 1000;
      const busy = (await taskSeconds()) - before - idlePerSecond * wall;
      await call('finish');
      mainRows.push([format, seconds, (busy * 1000) / seconds, syncMs / seconds]);
    }
    result.mainRows = mainRows;
    result.idlePerSecond = idlePerSecond;
  }
  return result;
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
  const engines = (process.env.VOICEWIRE_BENCH_ENGINES?.split(',') ?? ALL_ENGINES).filter((e): e is Engine =>
    ALL_ENGINES.includes(e as Engine),
  );
  const results: EngineResult[] = [];
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const mic = tone(1000, 2, 48_000, 0.25);
  const writeMic = (wav: Uint8Array) => {
    const path = join(work, 'mic.wav');
    writeFileSync(path, wav);
    return path;
  };

  try {
    // One engine at a time: on a 2-core machine, two would only disturb each other's audio.
    for (const engine of engines) {
      const page = await openBenchPage(engine, `http://127.0.0.1:${port}/`, mic, writeMic);
      try {
        results.push(await measure(page));
      } finally {
        await page.close();
      }
    }
    const chromiumResult = results.find((r) => r.engine === 'chromium');
    const names = results.map((r) => r.version);
    const sections: BenchSection[] = [
      {
        title: `First agent audio after the first chunk, enqueue → audible, ms of audio time (${AGENT_RATE} Hz stream, median of ${RUNS})`,
        headers: ['format', 'first chunk bytes', ...names, 'target ms'],
        rows: await Promise.all(
          FORMATS.map(async (format) => {
            const parts = await encodedParts(format, 1);
            const firstChunk = Buffer.from(parts.find((p) => p.length > 0) ?? '', 'base64').length;
            const target = format === 'mp3' || format === 'ogg' || format === 'flac' ? 100 : 60;
            return [
              format,
              firstChunk,
              ...results.map((r) => r.firstAudio.get(format)!.audibleMs),
              `≤ ${target}`,
            ];
          }),
        ),
        notes: [
          'The player is created (and its WASM decoder loaded) before the first chunk, as a conversation does at connect time.',
          'Audible = first sample above −40 dBFS on a tap after the player (what reaches the destination), on the context clock; the device output latency (AudioContext.outputLatency) comes on top and is the same for any player.',
          'mp3 includes the encoder priming (LAME: ~1100 samples of near-silence at the start of the stream).',
          'Chunks after the first arrive every 20 ms, as the local agent sends them.',
        ],
      },
      {
        title: `interrupt() → output below −60 dBFS, ms of audio time on the output signal (${INTERRUPTS} runs)`,
        headers: ['engine', 'median ms', 'max ms', 'stats confirm it, wall ms (median)', 'target ms'],
        rows: results.map((r) => [
          r.version,
          median(r.interrupts),
          Math.max(...r.interrupts),
          median(r.confirmedWallMs),
          '≤ 10 (fade ≤ 5)',
        ]),
        notes: [
          'From the context frame when interrupt() is called to the last sample above −60 dBFS on a tap after the player: it includes the wait for the next rendered block, and no player counter.',
          'The output gate (a GainNode ramp on the audio clock) makes it the same in every engine; the port message to the worklet (10–13 ms in WebKit) only makes the silence lasting.',
          'The sound server and the device add their own output latency after the destination (about 70 ms more in WebKitGTK through PulseAudio).',
        ],
      },
      {
        title: 'Capture frame delivery (20 ms linear16 frames at 16 kHz): last sample captured → onFrame',
        headers: ['engine', 'median ms', 'p95 ms', 'frames'],
        rows: results.map((r) => [
          r.version,
          median(r.captureDeliveryMs),
          percentile(r.captureDeliveryMs, 0.95),
          r.captureDeliveryMs.length,
        ]),
        notes: [
          'AudioContext.currentTime when onFrame runs minus the context time just after the quantum that completed the frame (the worklet stamps it): on the render clock, in steps of the render burst. The microphone’s own input latency (device and OS) comes before and is not visible to the page.',
          'Firefox and WebKit capture a private PulseAudio microphone playing the same 1 kHz tone as Chromium’s fake device.',
        ],
      },
    ];
    if (chromiumResult?.mainRows) {
      sections.push({
        title: `Main-thread time per second of conversation (agent audio + microphone, no socket; ${chromiumResult.version})`,
        headers: [
          'output format',
          'seconds fed',
          'all main-thread tasks, ms per s',
          'our synchronous work, ms per s',
        ],
        rows: chromiumResult.mainRows,
        notes: [
          'All main-thread tasks: Chrome DevTools Protocol TaskDuration over the steady part of the call (set-up and tear-down excluded), minus the idle page’s rate. It includes everything: the message loop and timers of the feeding itself, worklet port messages, the decoders’ async work (Vorbis decodes on the main thread; mp3/FLAC in a Web Worker, so only the hand-off), the microtask that resamples and posts, GC.',
          'Our synchronous work: performance.now() around JSON.parse + base64 + player.enqueue() of each audioStream message and around base64 + JSON.stringify of each audioIn frame.',
          `Idle page: ${((chromiumResult.idlePerSecond ?? 0) * 1000).toFixed(1)} ms per s (subtracted). Firefox and WebKit have no equivalent counter. Shared 2-core machine: expect noise.`,
        ],
      });
    }
    return sections;
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
