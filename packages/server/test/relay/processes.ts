import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A free loopback port (the kernel's pick, released for the caller). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, no persistence: its data is gone). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** Debian's `redis-server` on a free loopback port, no persistence; stopped by `stop()`. */
export async function startRedisServer(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn(
      '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 15_000);
      proc.stdout?.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}

export interface RelayProcess {
  child: ChildProcess;
  port: number;
  base: string;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

// The CLI from its TypeScript source, as `pnpm relay` runs it (the built bin is run from the installed
// tarball by `pnpm release:check`).
const cli = [
  '--import',
  'tsx',
  '--conditions=@voicewire/source',
  fileURLToPath(new URL('../../src/cli/relay.ts', import.meta.url)),
];

/** `voicewire-relay` in its own process; resolves once it prints its address. */
export function startRelayProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RelayProcess> {
  const child = spawn(process.execPath, [...cli, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        const port = Number(match[1]);
        resolve({ child, port, base: `ws://127.0.0.1:${port}/v1/talk`, output: () => output, exited });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${output}`));
    });
  });
}

/** Stops a relay process if it still runs (SIGKILL: tests that want a drain send SIGTERM themselves). */
export async function killProcess(relay: RelayProcess): Promise<void> {
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) return;
  relay.child.kill('SIGKILL');
  await relay.exited;
}

/**
 * A minimal agent service: answers `setup` with `init` (echoing the setup's apiKey so tests can
 * see the injection) and every other message with `{ type: 'echo', of }`.
 */
export async function startEchoUpstream(): Promise<{
  url: string;
  connections: () => number;
  close(): Promise<void>;
}> {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  let connections = 0;
  wss.on('connection', (socket) => {
    connections++;
    socket.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message.type === 'setup')
        socket.send(
          JSON.stringify({ type: 'init', conversationId: `c${connections}`, apiKey: message.apiKey }),
        );
      else socket.send(JSON.stringify({ type: 'echo', of: message.type }));
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/v1/talk`,
    connections: () => connections,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * A load balancer stand-in: a TCP proxy on loopback that sends each new connection to the first
 * backend (in order) whose `GET /health` answers 200 — what a real balancer's health checks do,
 * checked per connection so there is no polling interval to wait out.
 */
export async function startLoadBalancer(backendPorts: readonly number[]): Promise<{
  port: number;
  base: string;
  /** Backend port each accepted connection went to, in order. */
  routed: number[];
  close(): Promise<void>;
}> {
  const { createServer: createTcpServer, connect } = await import('node:net');
  const routed: number[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const healthy = async (port: number) => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  };
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.pause();
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    void (async () => {
      for (const port of backendPorts) {
        if (!(await healthy(port))) continue;
        routed.push(port);
        const backend = connect(port, '127.0.0.1');
        sockets.add(backend);
        backend.on('close', () => {
          sockets.delete(backend);
          client.destroy();
        });
        backend.on('error', () => client.destroy());
        client.on('close', () => backend.destroy());
        client.pipe(backend).pipe(client);
        client.resume();
        return;
      }
      client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    base: `ws://127.0.0.1:${port}/v1/talk`,
    routed,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
