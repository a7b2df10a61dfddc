/**
 * Conversation features, measured in headless Chromium with the real audio engine against the
 * scripted in-page server: drain-then-close (the agent hangs up while its goodbye is still
 * playing: how long after the goodbye's end is everything released, ≈ 0 is the target) and
 * push-to-talk (the user presses while the agent speaks: time until the agent is silent).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright';
import { encodeWav16, tone } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import type { DrainResult, PressResult } from './_conversation-features-page.ts';
import type { BenchSection } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = 5;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

export async function run(): Promise<BenchSection[]> {
  const work = mkdtempSync(join(tmpdir(), 'voicewire-bench-features-'));
  const server = createServer((request, response) => {
    const path = request.url === '/' ? '/index.html' : (request.url ?? '/').split('?')[0]!;
    try {
      const body = readFileSync(join(work, path));
      const type = { '.html': 'text/html', '.js': 'text/javascript' }[extname(path)];
      response.writeHead(200, { 'content-type': type ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await build({
    entryPoints: [join(here, '_conversation-features-page.ts')],
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
  const browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: chromiumArgs({ fakeAudioFile: mic }),
  });
  try {
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'voicewireFeaturesBench' in globalThis);
    const drain = (seconds: number, when: 'queued' | 'playedOut') =>
      page.evaluate(
        ([s, w]) =>
          (
            globalThis as unknown as {
              voicewireFeaturesBench: { drain(s: number, w: 'queued' | 'playedOut'): Promise<DrainResult> };
            }
          ).voicewireFeaturesBench.drain(s, w),
        [seconds, when] as const,
      );
    const press = () =>
      page.evaluate(() =>
        (
          globalThis as unknown as { voicewireFeaturesBench: { pressToTalk(): Promise<PressResult> } }
        ).voicewireFeaturesBench.pressToTalk(),
      );

    const drainRows: (string | number)[][] = [];
    const drainWorst: number[] = [];
    for (const when of ['queued', 'playedOut'] as const) {
      for (const seconds of [1, 3]) {
        const runs: DrainResult[] = [];
        for (let r = 0; r < RUNS; r++) runs.push(await drain(seconds, when));
        const release = runs.map((r) => r.releaseAfterLastSampleMs);
        drainWorst.push(Math.max(...release));
        drainRows.push([
          when === 'queued' ? 'while it plays' : 'after it played out',
          seconds,
          Math.round(median(runs.map((r) => r.remainingMs))),
          Math.round(median(release) * 10) / 10,
          Math.round(Math.max(...release) * 10) / 10,
          Math.round(Math.min(...runs.map((r) => r.heardMs))),
          '≤ 200',
        ]);
      }
    }
    const presses: PressResult[] = [];
    for (let r = 0; r < RUNS; r++) presses.push(await press());

    return [
      {
        title: `Drain, then close: the agent hangs up during or after its goodbye (headless Chromium, ${RUNS} runs)`,
        headers: [
          'hang-up arrives',
          'goodbye s',
          'audio left at hangup (ms)',
          'last sample → released, median (ms)',
          'worst (ms)',
          'goodbye heard, least (ms audio)',
          'target ms',
        ],
        rows: drainRows,
        checks: [
          {
            name: 'drain: last audible sample → everything released, worst case (ms)',
            measured: Math.round(Math.max(...drainWorst) * 10) / 10,
            atMost: 200,
          },
        ],
        notes: [
          'Audio left = what remains of the goodbye when the hang-up arrives (negative: it ran out that long before; the local agent hangs up ~25 ms after its last sample).',
          'Released = status `ended` (player closed, AudioContext closing; the mic and socket went at the hang-up), on the audio clock, from the last audible sample on a tap after the player.',
        ],
      },
      {
        title: `Push-to-talk: press while the agent speaks (headless Chromium, median of ${RUNS})`,
        headers: ['press → agent silent (ms audio time)', 'pressToTalk() call (ms wall)', 'target ms'],
        rows: [
          [median(presses.map((p) => p.pressToSilenceMs)), median(presses.map((p) => p.pressCallMs)), '≤ 10'],
        ],
        notes: [
          'Silent = the end of the player’s fade, on the audio clock; the press interrupts locally, without waiting for the server’s voiceActivityStart.',
        ],
      },
    ];
  } finally {
    await browser.close();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
