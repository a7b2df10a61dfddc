/**
 * The echo guard (issue 21; the core README's "Echo guard"), measured on the echo rig
 * (testing/echoRig.ts): a sound server whose speakers come back into the microphone at full
 * level 40 ms later, as on a laptop without headphones, with the library's default capture (echo
 * cancellation, noise suppression, auto gain) against the real local agent. Per engine:
 *
 * - self-interruptions per minute (`voiceActivityStart` with nobody talking) with the guard off
 *   and on, counted over {@link LISTEN_S} s of the agent talking each and scaled to a minute;
 * - the echo in the uplink while the agent talks (median and p95 dBFS of what went on the wire,
 *   held-back frames counting as silence);
 * - a barge-in at a normal level and 10 dB quieter (packages/integration/echo/bargeIn.ts): from
 *   the user's first loud frame to the frame on which the agent's detector decides (audio clock,
 *   frame-exact) and to its `voiceActivityStart` arriving (wall clock), and the delay the guard
 *   added (frame-exact).
 *
 * The engines run at the same time, each on its own sound server and display (the echo suite
 * does the same): about two minutes in all. `VOICEWIRE_BENCH_ENGINES=chromium,firefox` picks
 * engines (default: all three).
 */
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import type { BargeInResult } from '../../packages/integration/echo/bargeIn.ts';
import {
  bargeIn,
  speaking,
  type UserSentence,
  until,
  userSentence,
} from '../../packages/integration/echo/echoDriver.ts';
import {
  AGENT_SILENCE_MS,
  type EchoEvent,
  type UplinkLevels,
} from '../../packages/integration/echo/echoPage.ts';
import { MINUTE_GREETING, QUIET_DB } from '../../packages/integration/echo/echoScript.ts';
import { type EchoRig, startEchoRig } from '../../testing/echoRig.ts';
import { type Engine, PULSE_RATE } from '../../testing/engines.ts';
import { servePage } from '../../testing/servePage.ts';
import type { BenchCheck, BenchSection } from './types.ts';

const ALL_ENGINES: Engine[] = ['chromium', 'firefox', 'webkit'];
const AGENT = 'echo-agent';
const API_KEY = 'echo-key';
/**
 * Seconds of the agent talking per setting (guard off, guard on), scaled to a minute: with the
 * guard off the agent interrupts itself several times a minute, so half a minute tells off from
 * on; the echo suite holds the guard to none in a whole minute.
 */
const LISTEN_S = 30;
const HEARD_WITHIN_MS = 300;
const ADDED_DELAY_MS = 20;

interface EngineFigures {
  engine: Engine;
  version: string;
  off: { perMinute: number; uplink: UplinkLevels };
  on: { perMinute: number; uplink: UplinkLevels; heldBack: number };
  normal: BargeInResult | null;
  quiet: BargeInResult | null;
  error?: string;
}

function engineVersion(engine: Engine, userAgent: string): string {
  if (engine === 'chromium') return `Chromium ${/Chrome\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  if (engine === 'firefox') return `Firefox ${/Firefox\/(\d+)/.exec(userAgent)?.[1] ?? '?'}`;
  return `WebKitGTK ${/AppleWebKit\/([\d.]+)/.exec(userAgent)?.[1] ?? '?'}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** {@link LISTEN_S} s of the agent talking; with the guard on, then a barge-in at each level. */
async function listen(
  rig: EchoRig,
  agent: LocalAgent,
  echoGuard: boolean,
  sentences: { normal: UserSentence; quiet: UserSentence } | null,
): Promise<{
  perMinute: number;
  uplink: UplinkLevels;
  heldBack: number;
  normal: BargeInResult | null;
  quiet: BargeInResult | null;
}> {
  await rig.call('start', {
    url: agent.url,
    agentId: AGENT,
    apiKey: API_KEY,
    greeting: MINUTE_GREETING,
    echoGuard,
  });
  try {
    await until(rig, 'state', speaking, 30_000, 'the greeting');
    const from = await rig.call<number>('now');
    await sleep(LISTEN_S * 1000);
    const events = await rig.call<EchoEvent[]>('events');
    const cuts = events.filter((e) => e.type === 'voiceActivityStart' && e.at >= from).length;
    const uplink = await rig.call<UplinkLevels>('uplink');
    const stats = await rig.call<{ framesHeldBack: number }>('stats');
    const normal = sentences === null ? null : await bargeIn(rig, sentences.normal);
    const quiet = sentences === null ? null : await bargeIn(rig, sentences.quiet);
    return {
      perMinute: (cuts * 60) / LISTEN_S,
      uplink,
      heldBack: stats?.framesHeldBack ?? 0,
      normal,
      quiet,
    };
  } finally {
    await rig.call('stop').catch(() => {});
  }
}

async function measureEngine(
  engine: Engine,
  url: string,
  agent: LocalAgent,
  sentences: { normal: UserSentence; quiet: UserSentence },
): Promise<EngineFigures> {
  const rig = await startEchoRig(engine, 'bench-echo', url, 'echoRig');
  try {
    const off = await listen(rig, agent, false, null);
    const on = await listen(rig, agent, true, sentences);
    // Each barge-in's every figure, for reading a dash in the table.
    console.log(
      `${engine}: barge-in ${JSON.stringify(on.normal)}; 10 dB quieter ${JSON.stringify(on.quiet)}`,
    );
    return {
      engine,
      version: engineVersion(engine, rig.userAgent),
      off: { perMinute: off.perMinute, uplink: off.uplink },
      on: { perMinute: on.perMinute, uplink: on.uplink, heldBack: on.heldBack },
      normal: on.normal,
      quiet: on.quiet,
    };
  } finally {
    await rig.stop();
  }
}

const round = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value);

/** "heard after (audio) / (wall)", ms. */
const heard = (r: BargeInResult | null) =>
  r === null ? '–' : `${round(r.heardMs)} / ${round(r.heardWallMs)}`;
const added = (r: BargeInResult | null) =>
  r === null || r.addedMs === null ? '–' : `${round(r.addedMs)}${r.basis === 'voice' ? '*' : ''}`;

export async function run(): Promise<BenchSection[]> {
  const engines = (process.env.VOICEWIRE_BENCH_ENGINES?.split(',') ?? ALL_ENGINES).filter((e): e is Engine =>
    ALL_ENGINES.includes(e as Engine),
  );
  const agent = await startLocalAgent({ log: false, apiKeys: [API_KEY], silenceMs: AGENT_SILENCE_MS });
  const page = await servePage(
    new URL('../../packages/integration/echo/echoPage.ts', import.meta.url).pathname,
    'bench-echo',
  );
  const figures: EngineFigures[] = [];
  try {
    const sentences = {
      normal: await userSentence(PULSE_RATE),
      quiet: await userSentence(PULSE_RATE, QUIET_DB),
    };
    await synthesizeSpeech(MINUTE_GREETING, { sampleRate: 24_000 });
    // At the same time, each engine on its own sound server and display: one after another
    // they would take three times as long (real-time audio), for the same figures.
    const settled = await Promise.allSettled(
      engines.map((engine) => measureEngine(engine, page.url, agent, sentences)),
    );
    const failures = settled.flatMap((s, i) =>
      s.status === 'rejected' ? [`${engines[i]}: ${String(s.reason)}`] : [],
    );
    for (const s of settled) if (s.status === 'fulfilled') figures.push(s.value);
    if (failures.length > 0) throw new Error(failures.join('\n'));
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
    for (const [level, r] of [
      ['normal level', f.normal],
      ['10 dB quieter', f.quiet],
    ] as const) {
      checks.push({
        name: `echo guard, ${f.engine}: barge-in at ${level} heard after (ms of audio)`,
        measured: r?.heardMs ?? Number.NaN,
        atMost: HEARD_WITHIN_MS,
      });
      checks.push({
        name: `echo guard, ${f.engine}: delay added to a barge-in at ${level} (ms of audio)`,
        measured: r?.addedMs ?? Number.NaN,
        atMost: ADDED_DELAY_MS,
      });
    }
  }
  return [
    {
      title: `Echo guard: speakers 40 ms back into the microphone at full level, the default capture (self-interruptions counted over ${LISTEN_S} s per setting, scaled to a minute)`,
      headers: [
        'engine',
        'self-interruptions/min, guard off',
        'guard on',
        'uplink during agent, median dBFS (off / on)',
        'p95 dBFS (off / on)',
        'frames held back',
        'barge-in heard after, ms (audio / wall)',
        'guard added, ms',
        '10 dB quieter: heard after, ms (audio / wall)',
        'guard added, ms',
      ],
      rows: figures.map((f) => [
        f.version,
        f.off.perMinute,
        f.on.perMinute,
        `${round(f.off.uplink.medianDb)} / ${round(f.on.uplink.medianDb)}`,
        `${round(f.off.uplink.p95Db)} / ${round(f.on.uplink.p95Db)}`,
        f.on.heldBack,
        heard(f.normal),
        added(f.normal),
        heard(f.quiet),
        added(f.quiet),
      ]),
      checks,
      notes: [
        `Self-interruptions: \`voiceActivityStart\` from the local agent while nobody talks (each one cuts the agent off), over ${LISTEN_S} s of the agent talking per setting, times ${60 / LISTEN_S}.`,
        'Uplink: what went on the wire while the agent was audible; a frame held back counts as -120 dBFS.',
        'Barge-in: the user (another voice, peaking at -6 dBFS, then 10 dB quieter) talks over the agent. Heard after: from their first loud frame (found in the raw microphone by their voice) to the frame on which the agent’s detector, run on the uplink as the agent runs it, decides (audio clock, frame-exact), and to `voiceActivityStart` arriving in the page (wall clock: the socket and a loaded machine included).',
        'Guard added: the local agent’s detector on the guarded vs the raw microphone, fresh from the same moment, frame-exact; * where the raw microphone’s detector fired on the echo first (no echo canceller), heard after minus what the detector needs on the voice alone.',
        'The engines run at the same time, each on its own sound server and display.',
      ],
    },
  ];
}
