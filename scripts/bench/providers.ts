/**
 * Every provider (testing/providerCases.ts) in headless Chromium with the real audio engine,
 * against the local agent speaking its protocol on 127.0.0.1: how soon the agent's first audio
 * plays once it arrives, and how soon the agent is silent on the output once the user speaks
 * over it. Read off the wire as it arrived in the page and a tap after the player, on the audio
 * clock (scripts/bench/_providers-page.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalAgent } from '@voicewire/server';
import { build } from 'esbuild';
import { chromium } from 'playwright';
import { encodeWav16, tone } from '../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../testing/chromium.ts';
import { type CredentialKind, LOCAL_AGENT_KEY, mintCredential } from '../../testing/providerCredentials.ts';
import { SOURCE_CONDITION } from '../../testing/workspaceSources.ts';
import type { ProviderCallResult } from './_providers-page.ts';
import type { BenchSection } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** Calls per provider: each takes a few seconds of real audio (connect, 600 ms of greeting, the barge-in, the reply). */
const RUNS = 3;
/** DESIGN targets: silent on the output ≤ 10 ms after the barge-in is handled; first audio ≤ 60 ms after its chunk (PCM). */
const BARGE_IN_TARGET_MS = 10;
const FIRST_AUDIO_TARGET_MS = 60;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

/** What the bundled page puts on `globalThis`. */
interface BenchGlobal {
  voicewireProvidersBench: {
    names(): string[];
    call(name: string, origin: string): Promise<ProviderCallResult>;
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

export async function run(): Promise<BenchSection[]> {
  const work = mkdtempSync(join(tmpdir(), 'voicewire-bench-providers-'));
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
    entryPoints: [join(here, '_providers-page.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: [SOURCE_CONDITION],
    minify: true,
    outdir: work,
    entryNames: 'page',
    logLevel: 'silent',
  });
  writeFileSync(join(work, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
  const mic = join(work, 'mic.wav');
  // The user's speech: a 1 kHz tone the agent's voice activity detector hears (unmuted to speak).
  writeFileSync(mic, encodeWav16(tone(1000, 2, 48_000, 0.25), 48_000));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = await startLocalAgent({
    port: 0,
    host: '127.0.0.1',
    log: false,
    apiKeys: [LOCAL_AGENT_KEY],
    silenceMs: 400,
    greeting: 'Hello! I am the local agent, speaking every protocol. Say something.',
  });
  const browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: chromiumArgs({ fakeAudioFile: mic }),
  });
  try {
    const page = await browser.newPage();
    await page.exposeFunction('voicewireMint', (kind: CredentialKind, target: string, query: string) =>
      mintCredential(agent.origin, kind, target, query),
    );
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'voicewireProvidersBench' in globalThis);
    const names = await page.evaluate(() =>
      (globalThis as unknown as BenchGlobal).voicewireProvidersBench.names(),
    );

    const rows: (string | number)[][] = [];
    const checks: BenchSection['checks'] = [];
    for (const name of names) {
      const runs: ProviderCallResult[] = [];
      for (let r = 0; r < RUNS; r++)
        runs.push(
          await page.evaluate(
            ([n, origin]) => (globalThis as unknown as BenchGlobal).voicewireProvidersBench.call(n, origin),
            [name, agent.origin] as const,
          ),
        );
      const bargeIn = runs.map((r) => r.bargeInToSilentMs);
      const firstAudio = runs.map((r) => r.firstAudioMs);
      rows.push([
        name,
        round(median(bargeIn)),
        round(Math.max(...bargeIn)),
        `≤ ${BARGE_IN_TARGET_MS}`,
        Math.round(median(runs.map((r) => r.speechToSilentMs))),
        round(median(runs.map((r) => r.fadeMs))),
        round(median(firstAudio)),
        round(Math.max(...firstAudio)),
        `≤ ${FIRST_AUDIO_TARGET_MS}`,
        Math.round(median(runs.map((r) => r.greetingFirstAudioMs))),
      ]);
      checks.push(
        {
          name: `${name}: barge-in → agent silent on the output, median (ms)`,
          measured: round(median(bargeIn)),
          atMost: BARGE_IN_TARGET_MS,
        },
        {
          name: `${name}: first audio of a reply after its chunk, median (ms)`,
          measured: round(median(firstAudio)),
          atMost: FIRST_AUDIO_TARGET_MS,
        },
      );
    }
    return [
      {
        title: `Providers against the local agent: barge-in and first audio (headless Chromium, ${RUNS} calls each)`,
        headers: [
          'provider',
          'barge-in → silent, median (ms)',
          'worst (ms)',
          'target',
          'speech onset → silent, median (ms)',
          'fade (ms)',
          'first audio, median (ms)',
          'worst (ms)',
          'target',
          'greeting first audio, median (ms)',
        ],
        rows,
        checks,
        notes: [
          'Barge-in → silent: the library handling the server’s barge-in message (PlayAI voiceActivityStart, OpenAI input_audio_buffer.speech_started, ElevenLabs interruption, Gemini serverContent.interrupted, Deepgram UserStartedSpeaking, Hume user_interruption; the player interrupted, stamped on the audio thread’s clock) to the last sample above −60 dBFS on a tap after the player.',
          'Speech onset → silent: the first frame of the user’s speech (a 1 kHz tone on the fake microphone) leaving the page to the same moment; it includes the local agent’s voice activity detection and the round trip, so it has no target.',
          'Fade: the library’s own measure (stats.interruptionMs). First audio: the reply’s first chunk arriving in the page to its first sample on the tap, less the silence it begins with (the player ready, as in a conversation).',
          'Greeting first audio: the same for the greeting, which may arrive while start() is still loading the audio engine (it waits for the player); no target.',
        ],
      },
    ];
  } finally {
    await browser.close();
    await agent.close();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
