/**
 * `pnpm load`: many live conversations against the local agent, directly and through the relay.
 *
 *   pnpm load -- --sessions 200 --seconds 20 --via both
 *
 * `--via direct` is the local agent alone; `--via both` the agent directly, then through the
 * relay. `--via relay` measures the relay alone, in front of a lightweight echo instead of the
 * agent (`--instances 2`: two relays sharing a Redis): see `scripts/load/relay.ts`.
 *
 * The agent (and the relay) run in child processes so that the load generator never shares their
 * event loop: a slow client must not be mistaken for a slow server, nor the reverse.
 *
 * Each session sends 20 ms linear16 16 kHz frames at real time (a 300 Hz "voice" for 1.2 s, then
 * 2.8 s of silence, so the agent's VAD sees turns) and receives the agent's audio at real time.
 *
 * Event latency is the lateness of each `audioStream` chunk against the real-time schedule of its
 * response: the first chunk after `newAudioStream` starts the clock, and chunk k is due when the
 * audio before it has played out. A chunk that arrives after it is due would be an audible gap for
 * a player that started on the first chunk; early chunks count as 0. This is measured in the
 * client, so it includes the server's pacing, the socket and the client's own event loop (which is
 * reported separately, so a busy client can be told apart from a slow server).
 *
 * Pacing jitter is stricter: each chunk's delay against the best-aligned chunk of the same
 * response (past its first 200 ms), i.e. against the server's own steady schedule. The agent keeps
 * ~100 ms of audio in flight, which the lateness above forgives and the jitter does not.
 *
 * Also printed: each process's RSS, CPU share and event-loop delay, and the machine's load
 * average — on a shared machine, starvation by other processes shows up as latency.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const MAX_SESSIONS = 2000;
const MAX_SECONDS = 600;
const FRAME_MS = 20;
const INPUT_RATE_HZ = 16_000;
const OUTPUT_RATE_HZ = 16_000;
const API_KEY = 'load-test-key';
const RELAY_SECRET = 'load-test-secret';
const AGENT_ID = 'load-agent';

type ChildRole = 'agent' | 'relay';
type ChildMessage =
  | { type: 'ready'; url: string }
  | {
      type: 'stats';
      rssBytes: number;
      heapUsedBytes: number;
      loopDelayP50Ms: number;
      loopDelayP99Ms: number;
      loopDelayMaxMs: number;
      /** CPU time used since the last reset, as a share of one core. */
      cpuShare: number;
    };

interface Metrics {
  values: number[];
  /** Only chunks arriving after this (the end of the ramp) count. */
  since: number;
}

function cpuShare(usage: NodeJS.CpuUsage, wallMs: number): number {
  return (usage.user + usage.system) / 1000 / Math.max(1, wallMs);
}

// ---------------------------------------------------------------------------------------------
// Child processes: the agent or the relay, each alone on its event loop, reporting over IPC.

async function runChild(role: ChildRole, upstream: string | undefined): Promise<void> {
  const send = (message: ChildMessage) => process.send?.(message);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let cpuSince = process.cpuUsage();
  let wallSince = performance.now();
  let close: () => Promise<void>;
  if (role === 'agent') {
    const { startLocalAgent } = await import('../packages/server/src/agent/index.ts');
    const agent = await startLocalAgent({ port: 0, host: '127.0.0.1', apiKeys: [API_KEY], log: false });
    close = () => agent.close();
    send({ type: 'ready', url: agent.url });
  } else {
    const { createRelay } = await import('../packages/server/src/relay/index.ts');
    if (!upstream) throw new Error('relay child needs an upstream');
    const relay = createRelay({
      upstream,
      apiKey: API_KEY,
      secret: RELAY_SECRET,
      log: false,
      idleTimeoutMs: 600_000,
    });
    const server = createServer();
    relay.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    close = async () => {
      await relay.close();
      server.closeAllConnections();
      server.close();
    };
    send({ type: 'ready', url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/talk` });
  }
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'reset-stats') {
      loop.reset();
      loop.enable();
      cpuSince = process.cpuUsage();
      wallSince = performance.now();
    } else if (message.type === 'stats') {
      const memory = process.memoryUsage();
      send({
        type: 'stats',
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        loopDelayP50Ms: loop.percentile(50) / 1e6,
        loopDelayP99Ms: loop.percentile(99) / 1e6,
        loopDelayMaxMs: loop.max / 1e6,
        cpuShare: cpuShare(process.cpuUsage(cpuSince), performance.now() - wallSince),
      });
    } else if (message.type === 'stop') {
      await close();
      process.exit(0);
    }
  });
  // Never outlive the load generator.
  process.on('disconnect', () => process.exit(0));
}

interface Child {
  process: ChildProcess;
  url: string;
  stats(): Promise<Extract<ChildMessage, { type: 'stats' }>>;
  resetStats(): void;
  stop(): Promise<void>;
}

let profileDir: string | undefined;

async function startChild(role: ChildRole, upstream?: string): Promise<Child> {
  const args = [`--child=${role}`, ...(upstream ? [`--upstream=${upstream}`] : [])];
  // Forked with this process's execArgv, so the child runs TypeScript through tsx as we do.
  const execArgv = [...process.execArgv];
  // `--profile DIR`: a V8 CPU profile of each server process, written when it stops.
  if (profileDir)
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      `--cpu-prof-name=${role}-${Date.now()}.cpuprofile`,
    );
  const child = fork(process.argv[1] as string, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 30 s`)), 30_000);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
  });
  return {
    process: child,
    url: ready.url,
    resetStats: () => child.send({ type: 'reset-stats' }),
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (message: ChildMessage) => {
          if (message.type === 'stats') {
            child.off('message', onMessage);
            resolve(message);
          }
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The load generator.

function frameJson(samples: Int16Array): string {
  return JSON.stringify({ type: 'audioIn', data: Buffer.from(samples.buffer).toString('base64') });
}

/** 20 ms of a 300 Hz tone at about −12 dBFS: exactly 6 periods, so frames repeat seamlessly. */
const VOICE_FRAME = frameJson(
  Int16Array.from({ length: (INPUT_RATE_HZ * FRAME_MS) / 1000 }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / INPUT_RATE_HZ)),
  ),
);
const SILENT_FRAME = frameJson(new Int16Array((INPUT_RATE_HZ * FRAME_MS) / 1000));
const CYCLE_FRAMES = 200; // 4 s
const VOICE_FRAMES = 60; // 1.2 s

interface SessionResult {
  opened: boolean;
  initialised: boolean;
  held: boolean;
  closeCode: number | null;
  error: string | null;
  responses: number;
  audioBytes: number;
  framesSent: number;
}

class LoadSession {
  readonly result: SessionResult = {
    opened: false,
    initialised: false,
    held: false,
    closeCode: null,
    error: null,
    responses: 0,
    audioBytes: 0,
    framesSent: 0,
  };
  readonly #socket: WebSocket;
  readonly #phase: number;
  readonly #lateness: number[];
  readonly #jitter: Metrics;
  /** `arrival - audio before it` for this stream's chunks past its first 200 ms (after any lead burst). */
  #points: number[] = [];
  #streamStart = -1;
  #streamSeconds = 0;
  #startedAt = 0;
  #ended = false;

  constructor(
    url: string,
    setup: Record<string, unknown>,
    phase: number,
    lateness: number[],
    jitter: Metrics,
  ) {
    this.#jitter = jitter;
    this.#phase = phase;
    this.#lateness = lateness;
    this.#socket = new WebSocket(url, { perMessageDeflate: false });
    this.#socket.on('open', () => {
      this.result.opened = true;
      this.#socket.send(JSON.stringify(setup));
    });
    this.#socket.on('message', (data) => this.#onMessage(data.toString()));
    this.#socket.on('error', (error) => {
      this.result.error ??= error.message;
    });
    this.#socket.on('close', (code) => {
      this.result.closeCode = code;
      this.#ended = true;
    });
  }

  #onMessage(raw: string): void {
    const now = performance.now();
    let message: { type?: string; data?: string; message?: string; code?: number };
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    switch (message.type) {
      case 'init':
        this.result.initialised = true;
        this.#startedAt = now;
        break;
      case 'newAudioStream':
        this.result.responses++;
        this.#flushJitter();
        this.#streamStart = -1;
        break;
      case 'audioStream': {
        // mulaw: one byte per sample.
        const bytes = Math.floor(((message.data?.length ?? 0) * 3) / 4);
        this.result.audioBytes += bytes;
        if (this.#streamStart < 0) {
          this.#streamStart = now;
          this.#streamSeconds = 0;
        } else {
          const dueAt = this.#streamStart + this.#streamSeconds * 1000;
          this.#lateness.push(Math.max(0, now - dueAt));
          if (this.#streamSeconds > 0.2 && now >= this.#jitter.since)
            this.#points.push(now - this.#streamSeconds * 1000);
        }
        this.#streamSeconds += bytes / OUTPUT_RATE_HZ;
        break;
      }
      case 'error':
        this.result.error ??= `error ${message.code}: ${message.message}`;
        break;
    }
  }

  /** Sends every frame due by `now` (catching up if the timer was late, as a real mic would). */
  pump(now: number): void {
    if (!this.result.initialised || this.#ended || this.#socket.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((now - this.#startedAt) / FRAME_MS);
    while (this.result.framesSent <= due) {
      const position = (this.result.framesSent + this.#phase) % CYCLE_FRAMES;
      this.#socket.send(position < VOICE_FRAMES ? VOICE_FRAME : SILENT_FRAME);
      this.result.framesSent++;
    }
  }

  /**
   * Pacing jitter of the stream just ended: each chunk's delay against the best-aligned chunk of
   * the same stream, i.e. against the server's own steady real-time schedule, whatever lead it
   * keeps. Stricter than the lateness above, which a lead of buffered audio can hide.
   */
  #flushJitter(): void {
    if (this.#points.length > 1) {
      const anchor = Math.min(...this.#points);
      for (const point of this.#points) this.#jitter.values.push(point - anchor);
    }
    this.#points = [];
  }

  finish(): void {
    this.#flushJitter();
    this.result.held = this.result.initialised && !this.#ended && this.#socket.readyState === WebSocket.OPEN;
    this.#socket.terminate();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

interface RunReport {
  via: 'direct' | 'relay';
  sessions: number;
  held: number;
  initialised: number;
  responses: number;
  chunks: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  jitterP50Ms: number;
  jitterP99Ms: number;
  jitterMaxMs: number;
  clientLoopP99Ms: number;
  clientCpuShare: number;
  /** The machine's 1-minute load average at the end (other work competing for the 2 cores). */
  loadAverage: number;
  agent: Extract<ChildMessage, { type: 'stats' }>;
  relay?: Extract<ChildMessage, { type: 'stats' }>;
  errors: Record<string, number>;
}

async function runLoad(
  via: 'direct' | 'relay',
  url: string,
  sessions: number,
  seconds: number,
  rampMs: number,
  children: { agent: Child; relay?: Child },
): Promise<RunReport> {
  const { createSessionToken } = await import('../packages/server/src/relay/index.ts');
  const lateness: number[] = [];
  const jitter: Metrics = { values: [], since: Number.POSITIVE_INFINITY };
  const list: LoadSession[] = [];
  const setup = {
    type: 'setup',
    inputEncoding: 'linear16',
    inputSampleRate: INPUT_RATE_HZ,
    outputFormat: 'mulaw',
    outputSampleRate: OUTPUT_RATE_HZ,
    ...(via === 'direct' ? { apiKey: API_KEY } : {}),
  };
  const clientLoop = monitorEventLoopDelay({ resolution: 1 });
  clientLoop.enable();
  children.agent.resetStats();
  children.relay?.resetStats();

  const started = performance.now();
  const pumpTimer = setInterval(() => {
    const now = performance.now();
    for (const session of list) session.pump(now);
  }, FRAME_MS / 2);
  // Connect over the ramp so the run measures steady state, not a thundering herd of handshakes.
  for (let i = 0; i < sessions; i++) {
    const target =
      via === 'relay'
        ? `${url}/${AGENT_ID}?token=${createSessionToken({ secret: RELAY_SECRET, agentId: AGENT_ID, ttlSeconds: 600 })}`
        : `${url}/${AGENT_ID}`;
    list.push(new LoadSession(target, setup, Math.floor((i * CYCLE_FRAMES) / sessions), lateness, jitter));
    const wait = started + ((i + 1) * rampMs) / sessions - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  // Latency counts from the end of the ramp: connection set-up is not steady state.
  lateness.length = 0;
  jitter.since = performance.now();
  children.agent.resetStats();
  children.relay?.resetStats();
  clientLoop.reset();
  const clientCpu = process.cpuUsage();
  const measureStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const agentStats = await children.agent.stats();
  const relayStats = children.relay ? await children.relay.stats() : undefined;
  clearInterval(pumpTimer);
  clientLoop.disable();
  for (const session of list) session.finish();

  lateness.sort((a, b) => a - b);
  jitter.values.sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const { result } of list) {
    const key = result.error ?? (result.held ? null : `closed ${result.closeCode ?? 'before open'}`);
    if (key) errors[key] = (errors[key] ?? 0) + 1;
  }
  return {
    via,
    sessions,
    held: list.filter((s) => s.result.held).length,
    initialised: list.filter((s) => s.result.initialised).length,
    responses: list.reduce((sum, s) => sum + s.result.responses, 0),
    chunks: lateness.length,
    latencyP50Ms: percentile(lateness, 50),
    latencyP99Ms: percentile(lateness, 99),
    latencyMaxMs: lateness.at(-1) ?? Number.NaN,
    jitterP50Ms: percentile(jitter.values, 50),
    jitterP99Ms: percentile(jitter.values, 99),
    jitterMaxMs: jitter.values.at(-1) ?? Number.NaN,
    clientLoopP99Ms: clientLoop.percentile(99) / 1e6,
    clientCpuShare: cpuShare(process.cpuUsage(clientCpu), performance.now() - measureStart),
    loadAverage: loadavg()[0] ?? 0,
    agent: agentStats,
    ...(relayStats ? { relay: relayStats } : {}),
    errors,
  };
}

function printReport(report: RunReport, targetP99Ms: number): void {
  const lines = [
    `via ${report.via}: ${report.held}/${report.sessions} sessions held (${report.initialised} initialised), ${report.responses} agent responses, ${report.chunks} audio chunks timed`,
    `  event latency (audioStream lateness vs real time): p50 ${ms(report.latencyP50Ms)}, p99 ${ms(report.latencyP99Ms)}, max ${ms(report.latencyMaxMs)}  [target p99 <= ${targetP99Ms} ms: ${report.latencyP99Ms <= targetP99Ms ? 'met' : 'MISSED'}]`,
    `  pacing jitter (audioStream delay vs the stream's own real-time schedule): p50 ${ms(report.jitterP50Ms)}, p99 ${ms(report.jitterP99Ms)}, max ${ms(report.jitterMaxMs)}  [target p99 <= ${targetP99Ms} ms: ${report.jitterP99Ms <= targetP99Ms ? 'met' : 'MISSED'}]`,
    `  agent process: RSS ${mb(report.agent.rssBytes)}, heap ${mb(report.agent.heapUsedBytes)}, CPU ${pct(report.agent.cpuShare)} of a core, event-loop delay p50 ${ms(report.agent.loopDelayP50Ms)} p99 ${ms(report.agent.loopDelayP99Ms)} max ${ms(report.agent.loopDelayMaxMs)}`,
  ];
  if (report.relay) {
    lines.push(
      `  relay process: RSS ${mb(report.relay.rssBytes)}, heap ${mb(report.relay.heapUsedBytes)}, CPU ${pct(report.relay.cpuShare)} of a core, event-loop delay p50 ${ms(report.relay.loopDelayP50Ms)} p99 ${ms(report.relay.loopDelayP99Ms)} max ${ms(report.relay.loopDelayMaxMs)}`,
    );
  }
  lines.push(
    `  load generator: CPU ${pct(report.clientCpuShare)} of a core, event-loop delay p99 ${ms(report.clientLoopP99Ms)}; machine load average ${report.loadAverage.toFixed(1)} (2 cores)`,
  );
  for (const [error, count] of Object.entries(report.errors)) lines.push(`  ${count} × ${error}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--') argv.shift();
  const { values } = parseArgs({
    args: argv,
    options: {
      sessions: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '20' },
      via: { type: 'string', default: 'both' },
      'ramp-ms': { type: 'string' },
      'target-p99-ms': { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      profile: { type: 'string' },
      child: { type: 'string' },
      upstream: { type: 'string' },
      instances: { type: 'string', default: '1' },
    },
  });
  if (values.child === 'agent' || values.child === 'relay') {
    await runChild(values.child, values.upstream);
    return;
  }
  const sessions = Math.min(MAX_SESSIONS, Math.max(1, Number.parseInt(values.sessions, 10) || 200));
  const seconds = Math.min(MAX_SECONDS, Math.max(1, Number(values.seconds) || 20));
  const via = values.via;
  if (via !== 'direct' && via !== 'relay' && via !== 'both')
    throw new Error('--via must be direct, relay or both');
  const rampMs =
    values['ramp-ms'] !== undefined ? Number(values['ramp-ms']) : Math.min(10_000, sessions * 15);
  const targetP99Ms = Number(values['target-p99-ms']);
  profileDir = values.profile;
  if (via === 'relay') {
    const instances = Number(values.instances);
    if (instances !== 1 && instances !== 2) throw new Error('--instances must be 1 or 2');
    const timer = setTimeout(
      () => {
        process.stderr.write('load: overall time limit reached\n');
        process.exit(1);
      },
      (seconds * 2 + (rampMs / 1000) * 2 + 120) * 1000,
    );
    timer.unref();
    const { relayLoad } = await import('./load/relay.ts');
    process.exit(
      await relayLoad({
        sessions,
        seconds,
        rampMs,
        instances,
        json: values.json,
        profileDir,
        // The relay's own target: what it adds, not the agent's 20 ms.
        targetP99Ms: values['target-p99-ms'] === '20' ? 5 : targetP99Ms,
      }),
    );
  }

  // Bounded in time whatever happens.
  const deadline = setTimeout(
    () => {
      process.stderr.write('load: overall time limit reached\n');
      process.exit(1);
    },
    (seconds * 2 + rampMs / 1000 + 120) * 1000 * (via === 'both' ? 2 : 1),
  );
  deadline.unref();

  const agent = await startChild('agent');
  const reports: RunReport[] = [];
  try {
    process.stdout.write(
      `load: ${sessions} sessions × ${seconds} s, 20 ms linear16 16 kHz in, mulaw 16 kHz out, ramp ${rampMs} ms; agent pid ${agent.process.pid}\n`,
    );
    // Warm-up: the first reply loads the speech synthesiser and the encoders (hundreds of ms of
    // one-off work in the agent) — that is start-up cost, not the steady state being measured.
    await runLoad('direct', agent.url, 2, 4, 0, { agent });
    await new Promise((resolve) => setTimeout(resolve, 500));
    {
      const report = await runLoad('direct', agent.url, sessions, seconds, rampMs, { agent });
      printReport(report, targetP99Ms);
      reports.push(report);
      // Let the agent notice the closed sockets before the next run.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (via === 'both') {
      const relay = await startChild('relay', agent.url);
      try {
        const report = await runLoad('relay', relay.url, sessions, seconds, rampMs, { agent, relay });
        printReport(report, targetP99Ms);
        reports.push(report);
      } finally {
        await relay.stop();
      }
    }
  } finally {
    await agent.stop();
  }
  if (values.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  process.exit(reports.every((r) => r.held === r.sessions) ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`load: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
