import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** One frame on the wire, as received. */
export interface Frame {
  data: Buffer;
  isBinary: boolean;
}

/** What a vendor's server saw of one connection: the request exactly, then every frame. */
export interface VendorConnection {
  /** Path and query as requested (`/v1/realtime?model=…`). */
  url: URL;
  headers: IncomingHttpHeaders;
  /** The subprotocols offered, in order. */
  offered: string[];
  socket: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string }>;
}

export interface HttpRequestSeen {
  url: URL;
  headers: IncomingHttpHeaders;
}

/**
 * A stand-in for a vendor: a real `ws` server on 127.0.0.1 that answers like the vendors do
 * (echoes the first subprotocol offered) and records exactly what arrives. Plain HTTP requests
 * (ElevenLabs' signed-URL request) go to `http`, or get a 404.
 */
export async function startVendor(
  http?: (req: IncomingMessage, res: ServerResponse, origin: string) => void,
): Promise<{
  origin: string;
  connections: VendorConnection[];
  httpRequests: HttpRequestSeen[];
  nextConnection(): Promise<VendorConnection>;
  close(): Promise<void>;
}> {
  const httpRequests: HttpRequestSeen[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    httpRequests.push({ url: new URL(req.url ?? '/', 'http://vendor.invalid'), headers: req.headers });
    if (http) http(req, res, origin);
    else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const connections: VendorConnection[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  wss.on('connection', (socket, req) => {
    const frames: Frame[] = [];
    socket.on('message', (data, isBinary) => frames.push({ data: data as Buffer, isBinary }));
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((value) => value.trim())
      .filter(Boolean);
    connections.push({
      url: new URL(req.url ?? '/', 'http://vendor.invalid'),
      headers: req.headers,
      offered,
      socket,
      frames,
      closed: new Promise((resolve) =>
        socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      ),
    });
    waiters.shift()?.();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  origin = `ws://127.0.0.1:${port}`;
  return {
    origin,
    connections,
    httpRequests,
    async nextConnection() {
      while (connections.length <= taken) await new Promise<void>((resolve) => waiters.push(resolve));
      return connections[taken++] as VendorConnection;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Browser {
  socket: WebSocket;
  frames: Frame[];
  /** The text frames, as strings. */
  texts(): string[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `count` frames have arrived. */
  waitForFrames(count: number): Promise<void>;
}

/** A browser stand-in that offers subprotocols and sends headers a page's script could not (cookies). */
export function connectBrowser(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string>; origin?: string } = {},
): Browser {
  const socket = new WebSocket(url, options.protocols ?? [], {
    headers: options.headers ?? {},
    ...(options.origin ? { origin: options.origin } : {}),
  });
  const frames: Frame[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data, isBinary) => {
    frames.push({ data: data as Buffer, isBinary });
    for (const listener of listeners) listener();
  });
  socket.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve());
    socket.on('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => {});
  return {
    socket,
    frames,
    texts: () => frames.filter((f) => !f.isBinary).map((f) => f.data.toString()),
    opened,
    closed,
    waitForFrames: (count) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (frames.length < count) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${count} frames; got ${frames.length}`));
        }, 15_000);
        listeners.add(check);
        check();
      }),
  };
}

/** Every place a credential could travel in a request: its URL, its headers, its subprotocols. */
export function requestText(connection: { url: URL; headers: IncomingHttpHeaders }): string {
  return `${connection.url.pathname}${connection.url.search}\n${JSON.stringify(connection.headers)}`;
}
