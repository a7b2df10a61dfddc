import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createRelay, type Relay, type RelayLogEntry, type RelayOptions } from '../../src/relay/index.ts';

export interface UpstreamConnection {
  path: string;
  socket: WebSocket;
  /** Every text frame received, as the exact string on the wire. */
  received: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** A stand-in agent that records exactly what the relay forwards (the wire, not the relay's intent). */
export async function startRecordingUpstream(): Promise<{
  url: string;
  connections: UpstreamConnection[];
  nextConnection(): Promise<UpstreamConnection>;
  close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const connections: UpstreamConnection[] = [];
  const waiters: ((connection: UpstreamConnection) => void)[] = [];
  wss.on('connection', (socket, req) => {
    const received: string[] = [];
    const connection: UpstreamConnection = {
      path: req.url ?? '',
      socket,
      received,
      closed: new Promise((resolve) => {
        socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      }),
    };
    socket.on('message', (data) => received.push(data.toString()));
    connections.push(connection);
    waiters.shift()?.(connection);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/talk`,
    connections,
    nextConnection() {
      const ready = connections.find((c) => !(c as { taken?: boolean }).taken);
      if (ready) {
        (ready as { taken?: boolean }).taken = true;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) =>
        waiters.push((c) => {
          (c as { taken?: boolean }).taken = true;
          resolve(c);
        }),
      );
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A relay attached to a plain `node:http` server on an ephemeral port, with its log captured. */
export async function startRelay(options: Omit<RelayOptions, 'log'>): Promise<{
  relay: Relay;
  server: Server;
  base: string;
  logs: RelayLogEntry[];
  close(): Promise<void>;
}> {
  const logs: RelayLogEntry[] = [];
  const relay = createRelay({ ...options, log: (entry) => logs.push(entry) });
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  relay.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    relay,
    server,
    base: `ws://127.0.0.1:${port}/v1/talk`,
    logs,
    async close() {
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ClientRecording {
  socket: WebSocket;
  messages: string[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number): Promise<string[]>;
  /** Resolves with the first message matching `predicate` (already received or future). */
  waitFor(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

/** A browser stand-in: a real WebSocket client that records everything it is sent. */
export function connectClient(url: string, options: { origin?: string } = {}): ClientRecording {
  const socket = new WebSocket(url, options.origin ? { origin: options.origin } : {});
  const messages: string[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(data.toString());
    for (const listener of listeners) listener();
  });
  socket.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve());
    socket.on('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => {});
  const poll = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        const result = check();
        if (result !== undefined) {
          listeners.delete(run);
          clearTimeout(timer);
          resolve(result);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(run);
        reject(new Error(`timed out waiting for ${what}; got ${messages.length} messages`));
      }, timeoutMs);
      listeners.add(run);
      run();
    });
  return {
    socket,
    messages,
    opened,
    closed,
    waitForMessages: (count) =>
      poll(
        () => (messages.length >= count ? messages.slice(0, count) : undefined),
        20_000,
        `${count} messages`,
      ),
    waitFor: (predicate, timeoutMs = 20_000) =>
      poll(
        () => {
          for (const raw of messages) {
            try {
              const parsed = JSON.parse(raw) as Record<string, unknown>;
              if (predicate(parsed)) return parsed;
            } catch {}
          }
          return undefined;
        },
        timeoutMs,
        'a matching message',
      ),
  };
}

export function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
