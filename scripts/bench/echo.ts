/**
 * The echo guard (issue 21; the core README's "Echo guard"), measured on the echo rig
 * (testing/echoRig.ts): a sound server whose speakers come back into the microphone at full
 * level 40 ms later, as on a laptop without headphones, with the library's default capture (echo
 * cancellation, noise suppression, auto gain) against the real local agent. Per engine:
 *
 * - self-interruptions per minute (`voiceActivityStart` with nobody talking) with the guard off
 *   and on, over {@link LISTEN_S} s of the agent talking each;
 * - the echo in the uplink while the agent talks (median and p95 dBFS of what went on the wire,
 *   held-back frames counting as silence);
 * - a barge-in at a normal level: from the browser capturing the user's first word to the agent's
 *   `voiceActivityStart` (wall clock), and the delay the guard added (frame-exact, the local
 *   agent's detector on the microphone with and without the guard's holding back).
 *
 * `VOICEWIRE_BENCH_ENGINES=chromium,firefox` picks engines (default: all three).
 */
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import type {
  BargeInResult,
  EchoEvent,
  EchoState,
  UplinkLevels,
} from '../../packages/integration/echo/echoPage.ts';
import { MINUTE_GREETING, userSpeech } from '../../packages/integration/echo/echoScript.ts';
import { type EchoRig, startEchoRig } from '../../testing/echoRig.ts';
import { type Engine, PULSE_RATE } from '../../testing/engines.ts';
import { servePage } from '../../testing/servePage.ts';
import type { BenchCheck, BenchSection } from './types.ts';

const ALL_ENGINES: Engine[] = ['chromium', 'firefox', 'webkit'];
const AGENT = 'echo-agent';
const API_KEY = 'echo-key';
/** Seconds of the agent talking per setting (guard off, guard on). */
const LISTEN_S = 30;

interface EngineFigures {
  engine: Engine;
  version: string;
  off: { perMinute: number; uplink: UplinkLevels };
  on: { perMinute: number; uplink: UplinkLevels; heldBack: number };
  bargeIn: BargeInResult | null;
}

function engineVersion(engine: Engine, userAgent: string): string {
  if (engine === 'chromium') return `Chromium ${/Chrome\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  if (engine === 'firefox') return `Firefox ${/Firefox\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  return `WebKitGTK ${/AppleWebKit\/([\d.]+)/.exec(userAgent)?.[1] ?? '?'}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  rig: EchoRig,
  step: string,
  accept: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await rig.call<T>(step);
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${rig.engine}: timed out on ${step}: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

const speaking = (state: EchoState) => state.mode === 'agentSpeaking' && state.outputLevel > 0.003;

/** A call of {@link LISTEN_S} s of the agent talking; with the guard on, a barge-in at the end. */
async function listen(
  rig: EchoRig,
  agent: LocalAgent,
  echoGuard: boolean,
  voice: Float32Array,
): Promise<{ perMinute: number; uplink: UplinkLevels; heldBack: number; bargeIn: BargeInResult | null }> {
  await rig.call('start', {
    url: agent.url,
    agentId: AGENT,
    apiKey: API_KEY,
    greeting: MINUTE_GREETING,
    echoGuard,
  });
  try {
    await until(rig, 'state', speaking, 30_000);
    const from = await rig.call<number>('now');
    await sleep(LISTEN_S * 1000);
    const events = await rig.call<EchoEvent[]>('events');
    const cuts = events.filter((e) => e.type === 'voiceActivityStart' && e.at >= from).length;
    const uplink = await rig.call<UplinkLevels>('uplink');
    const stats = await rig.call<{ framesHeldBack: number }>('stats');
    let bargeIn: BargeInResult | null = null;
    if (echoGuard && speaking(await rig.call<EchoState>('state'))) {
      const armedAt = await rig.call<number>('arm');
      rig.sound.play(voice);
      await until<EchoEvent[]>(
        rig,
        'events',
        (list) => list.some((e) => e.type === 'voiceActivityStart' && e.at >= armedAt),
        10_000,
      ).catch(() => null);
      bargeIn = await until<BargeInResult>(
        rig,
        'bargeIn',
        (r) => r.rawDetectedMs !== null && r.guardedDetectedMs !== null && r.heardMs !== null,
        10_000,
      ).catch(() => rig.call<BargeInResult>('bargeIn'));
    }
    return { perMinute: (cuts * 60) / LISTEN_S, uplink, heldBack: stats?.framesHeldBack ?? 0, bargeIn };
  } finally {
    await rig.call('stop').catch(() => {});
  }
}

const round = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value);

export async function run(): Promise<BenchSection[]> {
  const engines = (process.env.VOICEWIRE_BENCH_ENGINES?.split(',') ?? ALL_ENGINES).filter((e): e is Engine =>
    ALL_ENGINES.includes(e as Engine),
  );
  const agent = await startLocalAgent({ log: false, apiKeys: [API_KEY] });
  const page = await servePage(
    new URL('../../packages/integration/echo/echoPage.ts', import.meta.url).pathname,
    'bench-echo',
  );
  const figures: EngineFigures[] = [];
  try {
    const voice = await userSpeech(PULSE_RATE);
    await synthesizeSpeech(MINUTE_GREETING, { sampleRate: 24_000 });
    // One engine at a time: on a 2-core machine, two would only disturb each other's audio.
    for (const engine of engines) {
      const rig = await startEchoRig(engine, 'bench-echo', page.url, 'echoRig');
      try {
        const off = await listen(rig, agent, false, voice);
        const on = await listen(rig, agent, true, voice);
        figures.push({
          engine,
          version: engineVersion(engine, rig.userAgent),
          off: { perMinute: off.perMinute, uplink: off.uplink },
          on: { perMinute: on.perMinute, uplink: on.uplink, heldBack: on.heldBack },
          bargeIn: on.bargeIn,
        });
      } finally {
        await rig.stop();
      }
    }
  } finally {
    await page.close();
    await agent.close();
  }
  const checks: BenchCheck[] = [];
  for (const f of figures) {
    checks.push({
      name: `echo guard, ${f.engine}: self-interruptions per minute`,
      measured: f.on.perMinute,
      atMost: 0,
    });
    checks.push({
      name: `echo guard, ${f.engine}: delay added to a barge-in (ms of audio)`,
      measured: f.bargeIn?.addedMs ?? Number.NaN,
      atMost: 20,
    });
  }
  return [
    {
      title: `Echo guard: speakers 40 ms back into the microphone at full level, the default capture (${LISTEN_S} s per setting)`,
      headers: [
        'engine',
        'self-interruptions/min, guard off',
        'guard on',
        'uplink during agent, median dBFS (off / on)',
        'p95 dBFS (off / on)',
        'frames held back',
        'barge-in heard after (ms wall)',
        'guard added (ms audio)',
      ],
      rows: figures.map((f) => [
        f.version,
        f.off.perMinute,
        f.on.perMinute,
        `${round(f.off.uplink.medianDb)} / ${round(f.on.uplink.medianDb)}`,
        `${round(f.off.uplink.p95Db)} / ${round(f.on.uplink.p95Db)}`,
        f.on.heldBack,
        round(f.bargeIn?.heardMs),
        round(f.bargeIn?.addedMs),
      ]),
      checks,
      notes: [
        'Self-interruptions: `voiceActivityStart` from the local agent while nobody talks (each one cuts the agent off).',
        'Uplink: what went on the wire while the agent was audible; a frame held back counts as -120 dBFS.',
        'Barge-in: the user (another voice, peaking at -6 dBFS) talks over the agent; heard = from the capture of their first word to `voiceActivityStart` (wall clock, load-sensitive); added = the local agent’s detector on the guarded vs the raw microphone, frame-exact.',
      ],
    },
  ];
}
