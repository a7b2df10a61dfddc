/**
 * `pnpm load -- --via relay`: the relay alone, at real-time audio both ways.
 *
 *   pnpm load -- --via relay --sessions 1000 --seconds 20 [--instances 2]
 *
 * The agent service is replaced by a lightweight echo (the local agent synthesises and encodes
 * speech and cannot feed a thousand sessions on two cores): it answers `setup` with `init` and
 * every `audioIn` frame with an `audioStream` of the same audio, at once. Each session sends a
 * 20 ms linear16 16 kHz frame every 20 ms and gets 20 ms back for each, so audio flows at real time
 * in both directions.
 *
 * The sessions go through the relay (with `--instances 2`: two relay processes sharing a Redis
 * started here, sessions alternating between them). Meanwhile a few probe sessions (one per 20)
 * go straight to the echo: they share the same echo, load generator, kernel and machine load, so
 * the relay's added latency is the relayed round trip (frame sent → its echo back) minus the
 * probes', at each percentile — on a shared machine, two separate runs would mostly measure how
 * the load changed between them. It counts both directions through the relay.
 *
 * Every process (echo, relays, Redis, this load generator) is separate, so a busy client is not
 * mistaken for a slow relay; each reports CPU and memory. Stops by itself.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const FRAME_MS = 20;
const FRAME_BYTES = 640; // 20 ms of linear16 at 16 kHz
const API_KEY = 'load-test-key';
const SECRET = 'load-test-secret';
const AGENT_ID = 'load-agent';
const AUDIO_IN = Buffer.from('{"type":"audioIn","data":"');
const AUDIO_STREAM = Buffer.from('{"type":"audioStream","data":"');
const CLOSE = Buffer.from('"}');
const SELF = fileURLToPath(import.meta.url);

interface ProcessStats {
  rssBytes: number;
  cpuShare: number;
  loopDelayP99Ms: number;
  /** Messages the process relayed since the reset, both directions (relays only). */
  messages: number;
  /** Wall time since the reset. */
  wallMs: number;
}

// ---------------------------------------------------------------------------------------------
// Child processes: the echo and the relay instances.

async function runChild(
  role: string,
  upstream: string | undefined,
  redis: string | undefined,
): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let cpuSince = process.cpuUsage();
  let wallSince = performance.now();
  let url: string;
  let messages = () => 0;
  let messagesSince = 0;
  if (role === 'echo') {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    let conversations = 0;
    wss.on('connection', (socket) => {
      socket.on('message', (raw) => {
        const data = raw as Buffer;
        if (
          data.length > AUDIO_IN.length &&
          data.compare(AUDIO_IN, 0, AUDIO_IN.length, 0, AUDIO_IN.length) === 0
        ) {
          // The same audio straight back, without parsing: the cheapest agent there can be.
          socket.send(Buffer.concat([AUDIO_STREAM, data.subarray(AUDIO_IN.length)]));
        } else if (data.includes('"setup"')) {
          socket.send(JSON.stringify({ type: 'init', conversationId: `echo-${++conversations}` }));
        }
      });
    });
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/talk`;
  } else {
    const { createRelay, redisStore } = await import('../../packages/server/src/relay/index.ts');
    const store = redis ? redisStore({ url: redis }) : undefined;
    const relay = createRelay({
      upstream: upstream as string,
      apiKey: API_KEY,
      secret: SECRET,
      log: false,
      idleTimeoutMs: 600_000,
      maxSessionsPerToken: 2,
      ...(store ? { store } : {}),
    });
    const server = createServer((req, res) => {
      if (!relay.handleRequest(req, res)) res.writeHead(404).end();
    });
    relay.attach(server);
    messages = () => {
      let total = 0;
      for (const match of relay.metrics().matchAll(/^voicewire_relay_frames_total\{[^}]*\} (\d+)$/gm))
        total += Number(match[1]);
      return total;
    };
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/talk`;
  }
  process.send?.({ type: 'ready', url });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'reset') {
      loop.reset();
      cpuSince = process.cpuUsage();
      wallSince = performance.now();
      messagesSince = messages();
    } else if (message.type === 'stats') {
      const usage = process.cpuUsage(cpuSince);
      process.send?.({
        type: 'stats',
        rssBytes: process.memoryUsage().rss,
        cpuShare: (usage.user + usage.system) / 1000 / Math.max(1, performance.now() - wallSince),
        loopDelayP99Ms: loop.percentile(99) / 1e6,
        messages: messages() - messagesSince,
        wallMs: performance.now() - wallSince,
      } satisfies ProcessStats & { type: string });
    }
  });
  process.on('disconnect', () => process.exit(0));
  // An orderly exit, so that `--profile` writes the CPU profile.
  process.on('SIGTERM', () => process.exit(0));
}

interface Child {
  url: string;
  process: ChildProcess;
  reset(): void;
  stats(): Promise<ProcessStats>;
  stop(): Promise<void>;
}

let profileDir: string | undefined;

async function startChild(role: 'echo' | 'relay', args: string[] = []): Promise<Child> {
  const execArgv = [...process.execArgv];
  // `--profile DIR`: a V8 CPU profile of each server process, written when it stops.
  if (profileDir)
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      `--cpu-prof-name=${role}-${Date.now()}.cpuprofile`,
    );
  const child = fork(SELF, [`--load-child=${role}`, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 30 s`)), 30_000);
    child.on('message', (message: { type: string; url?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
  return {
    url,
    process: child,
    reset: () => child.send({ type: 'reset' }),
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (message: ProcessStats & { type: string }) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(message);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The load generator.

/** One frame per sequence number: the first 4 bytes of the PCM carry it, the rest is a tone. */
function framePayload(seq: number): Buffer {
  const pcm = Buffer.alloc(FRAME_BYTES);
  for (let i = 2; i < FRAME_BYTES / 2; i++)
    pcm.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)), i * 2);
  pcm.writeUInt32LE(seq, 0);
  return Buffer.concat([AUDIO_IN, Buffer.from(pcm.toString('base64')), CLOSE]);
}

class EchoSession {
  readonly socket: WebSocket;
  initialised = false;
  closed = false;
  error: string | null = null;
  sent = 0;
  received = 0;
  #startedAt = 0;
  readonly #sentAt: number[] = [];
  readonly #rtt: number[];
  readonly #frame: Buffer;

  constructor(url: string, rtt: number[], frame: Buffer) {
    this.#rtt = rtt;
    this.#frame = frame;
    this.socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket.on('open', () =>
      this.socket.send(JSON.stringify({ type: 'setup', inputEncoding: 'linear16', inputSampleRate: 16000 })),
    );
    this.socket.on('message', (data: Buffer) => this.#onMessage(data));
    this.socket.on('error', (error) => {
      this.error ??= error.message;
    });
    this.socket.on('close', (code) => {
      this.closed = true;
      if (!this.error && code !== 1005) this.error = `closed ${code}`;
    });
  }

  #onMessage(data: Buffer): void {
    const now = performance.now();
    if (data.compare(AUDIO_STREAM, 0, AUDIO_STREAM.length, 0, AUDIO_STREAM.length) === 0) {
      const seq = Buffer.from(
        data.subarray(AUDIO_STREAM.length, AUDIO_STREAM.length + 8).toString(),
        'base64',
      ).readUInt32LE(0);
      const sentAt = this.#sentAt[seq];
      if (sentAt !== undefined) this.#rtt.push(now - sentAt);
      this.received++;
      return;
    }
    const text = data.toString();
    if (text.includes('"init"')) {
      this.initialised = true;
      this.#startedAt = now;
    } else if (text.includes('"error"')) this.error ??= text.slice(0, 160);
  }

  /** Sends every frame due by `now`, as a microphone would (catching up after a late timer). */
  pump(now: number): void {
    if (!this.initialised || this.closed) return;
    const due = Math.floor((now - this.#startedAt) / FRAME_MS);
    while (this.sent <= due) {
      // The sequence number is patched into the prebuilt frame's first base64 characters.
      const seq = this.sent++;
      const head = Buffer.alloc(6);
      head.writeUInt32LE(seq, 0);
      this.#frame.write(head.toString('base64'), AUDIO_IN.length, 8, 'latin1');
      this.#sentAt[seq] = performance.now();
      this.socket.send(this.#frame);
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

interface RunResult {
  label: string;
  sessions: number;
  held: number;
  framesSent: number;
  framesBack: number;
  rttP50Ms: number;
  rttP99Ms: number;
  rttMaxMs: number;
  /** The same round trip for the probes: a few sessions straight to the echo during the same run. */
  probes: number;
  probesHeld: number;
  probeP50Ms: number;
  probeP99Ms: number;
  clientCpuShare: number;
  clientLoopP99Ms: number;
  servers: { name: string; idleRssBytes: number; stats: ProcessStats }[];
  loadAverage: number;
  errors: Record<string, number>;
}

async function run(
  label: string,
  urls: string[],
  probeUrl: string,
  sessions: number,
  seconds: number,
  rampMs: number,
  servers: { name: string; child: Child }[],
): Promise<RunResult> {
  const { createSessionToken } = await import('../../packages/server/src/relay/index.ts');
  const idle = await Promise.all(servers.map(({ child }) => child.stats()));
  const rtt: number[] = [];
  const probeRtt: number[] = [];
  const list: EchoSession[] = [];
  const probeList: EchoSession[] = [];
  // One probe per 20 sessions (at least 5), spread over the ramp.
  const probes = Math.max(5, Math.round(sessions / 20));
  const probeEvery = Math.max(1, Math.floor(sessions / probes));
  const template = framePayload(0);
  const pumpTimer = setInterval(() => {
    const now = performance.now();
    for (const session of list) session.pump(now);
    for (const session of probeList) session.pump(now);
  }, FRAME_MS / 4);
  const started = performance.now();
  for (let i = 0; i < sessions; i++) {
    const base = urls[i % urls.length] as string;
    const token = createSessionToken({ secret: SECRET, agentId: AGENT_ID, ttlSeconds: 600 });
    list.push(new EchoSession(`${base}/${AGENT_ID}?token=${token}`, rtt, Buffer.from(template)));
    if (i % probeEvery === 0 && probeList.length < probes)
      probeList.push(new EchoSession(`${probeUrl}/${AGENT_ID}`, probeRtt, Buffer.from(template)));
    const wait = started + ((i + 1) * rampMs) / sessions - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  // Settle, then measure the steady state only.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  rtt.length = 0;
  probeRtt.length = 0;
  for (const { child } of servers) child.reset();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu = process.cpuUsage();
  const measureStart = performance.now();
  const sentBefore = list.reduce((n, s) => n + s.sent, 0);
  const backBefore = list.reduce((n, s) => n + s.received, 0);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const stats = await Promise.all(servers.map(({ child }) => child.stats()));
  const usage = process.cpuUsage(cpu);
  const wall = performance.now() - measureStart;
  loop.disable();
  clearInterval(pumpTimer);
  const framesSent = list.reduce((n, s) => n + s.sent, 0) - sentBefore;
  const framesBack = list.reduce((n, s) => n + s.received, 0) - backBefore;
  const held = list.filter((s) => s.initialised && !s.closed).length;
  const errors: Record<string, number> = {};
  for (const session of list) {
    const key = session.error ?? (session.initialised ? null : 'never initialised');
    if (key) errors[key] = (errors[key] ?? 0) + 1;
  }
  const probesHeld = probeList.filter((s) => s.initialised && !s.closed).length;
  for (const session of [...list, ...probeList]) session.socket.terminate();
  rtt.sort((a, b) => a - b);
  probeRtt.sort((a, b) => a - b);
  return {
    label,
    sessions,
    held,
    framesSent,
    framesBack,
    rttP50Ms: percentile(rtt, 50),
    rttP99Ms: percentile(rtt, 99),
    rttMaxMs: rtt.at(-1) ?? Number.NaN,
    probes: probeList.length,
    probesHeld,
    probeP50Ms: percentile(probeRtt, 50),
    probeP99Ms: percentile(probeRtt, 99),
    clientCpuShare: (usage.user + usage.system) / 1000 / wall,
    clientLoopP99Ms: loop.percentile(99) / 1e6,
    servers: servers.map(({ name }, i) => ({
      name,
      idleRssBytes: idle[i]?.rssBytes ?? 0,
      stats: stats[i] as ProcessStats,
    })),
    loadAverage: loadavg()[0] ?? 0,
    errors,
  };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

function print(result: RunResult): void {
  const lines = [
    `${result.label}: ${result.held}/${result.sessions} sessions held; ${result.framesSent} frames sent, ${result.framesBack} echoed back`,
    `  round trip (frame sent -> its echo back): p50 ${ms(result.rttP50Ms)}, p99 ${ms(result.rttP99Ms)}, max ${ms(result.rttMaxMs)}`,
    `  ${result.probesHeld}/${result.probes} probes straight to the echo meanwhile: p50 ${ms(result.probeP50Ms)}, p99 ${ms(result.probeP99Ms)}`,
  ];
  for (const server of result.servers)
    lines.push(
      `  ${server.name}: CPU ${pct(server.stats.cpuShare)} of a core, RSS ${mb(server.stats.rssBytes)} (idle ${mb(server.idleRssBytes)}), event-loop delay p99 ${ms(server.stats.loopDelayP99Ms)}`,
    );
  lines.push(
    `  load generator: CPU ${pct(result.clientCpuShare)} of a core, event-loop delay p99 ${ms(result.clientLoopP99Ms)}; machine load average ${result.loadAverage.toFixed(1)} (2 cores)`,
  );
  for (const [error, count] of Object.entries(result.errors)) lines.push(`  ${count} × ${error}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export interface RelayLoadOptions {
  sessions: number;
  seconds: number;
  rampMs: number;
  instances: 1 | 2;
  targetP99Ms: number;
  json: boolean;
  profileDir?: string | undefined;
}

/** Runs the baseline and the relayed run; resolves with the process exit code. */
export async function relayLoad(options: RelayLoadOptions): Promise<number> {
  const { sessions, seconds, rampMs, instances } = options;
  profileDir = options.profileDir;
  const echo = await startChild('echo');
  const redis = instances === 2 ? await startRedis() : null;
  const relays: Child[] = [];
  try {
    for (let i = 0; i < instances; i++)
      relays.push(
        await startChild('relay', [`--upstream=${echo.url}`, ...(redis ? [`--redis=${redis.url}`] : [])]),
      );
    process.stdout.write(
      `load (relay alone): ${sessions} sessions × ${seconds} s, 20 ms linear16 16 kHz each way, ramp ${rampMs} ms; ${instances} relay instance${instances === 2 ? 's sharing Redis' : ''}, echo upstream\n`,
    );
    const result = await run(
      `through ${instances === 2 ? 'two relays + Redis' : 'the relay'}`,
      relays.map((r) => r.url),
      echo.url,
      sessions,
      seconds,
      rampMs,
      [{ name: 'echo', child: echo }, ...relays.map((child, i) => ({ name: `relay ${i + 1}`, child }))],
    );
    print(result);
    const relayServers = result.servers.filter((s) => s.name.startsWith('relay'));
    const cpu = relayServers.reduce((n, s) => n + s.stats.cpuShare, 0);
    const memory = relayServers.reduce((n, s) => n + s.stats.rssBytes - s.idleRssBytes, 0);
    // Per message the relays forwarded (each frame crosses twice: up, and its echo down), by their
    // own counters: a figure that holds however much of the machine they were given.
    const relayedMessages = relayServers.reduce((n, s) => n + s.stats.messages, 0);
    const relayCpuMs = relayServers.reduce((n, s) => n + s.stats.cpuShare * s.stats.wallMs, 0);
    const microsPerMessage = relayedMessages > 0 ? (relayCpuMs * 1000) / relayedMessages : Number.NaN;
    const addedP50 = result.rttP50Ms - result.probeP50Ms;
    const addedP99 = result.rttP99Ms - result.probeP99Ms;
    const allHeld = result.held === sessions && result.probesHeld === result.probes;
    const met = allHeld && Number.isFinite(addedP99) && addedP99 <= options.targetP99Ms;
    process.stdout.write(
      `relay: ${result.held}/${sessions} sessions held; added round-trip latency (relayed minus probes) p50 ${ms(addedP50)}, p99 ${ms(addedP99)} [target p99 <= ${options.targetP99Ms} ms with every session held: ${met ? 'met' : 'MISSED'}]; ` +
        `CPU ${((cpu / sessions) * 1000).toFixed(2)} ms per session-second (${pct(cpu)} of a core in all), ${microsPerMessage.toFixed(1)} µs per relayed message ` +
        `(${Math.floor(1e6 / (microsPerMessage * 100))} sessions per core at 100 messages/s each); memory ${(memory / sessions / 1024).toFixed(0)} KB per session\n`,
    );
    if (options.json) process.stdout.write(`${JSON.stringify({ result, addedP50, addedP99 }, null, 2)}\n`);
    return allHeld ? 0 : 1;
  } finally {
    for (const relay of relays) await relay.stop();
    await echo.stop();
    await redis?.stop();
  }
}

if (process.argv[1] === SELF) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  void runChild(arg('load-child') as string, arg('upstream'), arg('redis'));
}
