import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConversationOptions, createConversation, type Provider } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, beforeEach } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';

/** A frame the client sent: JSON text parsed, or binary bytes. */
export type Received = { text: string; json: Record<string, unknown> | null } | { binary: Uint8Array };

/**
 * A real WebSocket server on 127.0.0.1 that a test plays a vendor's side with: it records the
 * handshake (path, query, subprotocols) and every frame the client sends, and sends what the
 * test says. It echoes the first subprotocol the client offers, as vendors do (a browser, and
 * `ws`, fail the handshake otherwise).
 */
export interface VendorServer {
  /** `ws://127.0.0.1:PORT` */
  readonly origin: string;
  /** The handshakes so far, oldest first. */
  readonly handshakes: { path: string; query: URLSearchParams; protocols: string[] }[];
  /** Every frame the client sent on the newest socket. */
  readonly received: Received[];
  /** JSON frames of this `type` on the newest socket (`type` undefined: those without one). */
  messages(type?: string): Record<string, unknown>[];
  /** Every JSON object frame on the newest socket, in order (Gemini's messages have no `type`). */
  json(): Record<string, unknown>[];
  send(message: object | string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Cut the connection without a close frame (the client sees 1006). */
  drop(): void;
  /** Resolves once `count` sockets have connected. */
  connections(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startVendorServer(): Promise<VendorServer> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const handshakes: VendorServer['handshakes'] = [];
  let socket: WebSocket | null = null;
  let received: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  server.on('connection', (ws: WebSocket, request: IncomingMessage) => {
    // Appended, not resolved: a path that starts with `//` (Google's SDK sends one) stays a path.
    const url = new URL(`http://127.0.0.1${request.url ?? '/'}`);
    const header = request.headers['sec-websocket-protocol'];
    handshakes.push({
      path: url.pathname,
      query: url.searchParams,
      protocols: typeof header === 'string' ? header.split(',').map((p) => p.trim()) : [],
    });
    socket = ws;
    received = [];
    const mine = received;
    ws.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) {
        mine.push({ binary: new Uint8Array(buffer) });
        return;
      }
      const text = buffer.toString('utf8');
      let json: Record<string, unknown> | null = null;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = null;
      }
      mine.push({ text, json });
    });
    for (const waiter of waiters.splice(0)) {
      if (handshakes.length >= waiter.count) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  return {
    origin: `ws://127.0.0.1:${port}`,
    handshakes,
    get received() {
      return received;
    },
    messages(type) {
      return received.flatMap((frame) =>
        'json' in frame && frame.json !== null && frame.json.type === type ? [frame.json] : [],
      );
    },
    json() {
      return received.flatMap((frame) =>
        'json' in frame && frame.json !== null && typeof frame.json === 'object' && !Array.isArray(frame.json)
          ? [frame.json]
          : [],
      );
    },
    send(message) {
      if (socket?.readyState !== WebSocket.OPEN) throw new Error('no open socket to send on');
      if (message instanceof Uint8Array) socket.send(message, { binary: true });
      else socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    close(code = 1000, reason = '') {
      socket?.close(code, reason);
    },
    drop() {
      socket?.terminate();
    },
    connections(count) {
      if (handshakes.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    stop() {
      for (const client of server.clients) client.terminate();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits for `check` to hold, polling; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What {@link useVendorServer} opens calls with. */
export interface VendorCallSetup {
  /** The vendor's path on the server, appended to its origin. */
  path: string;
  apiKey?: string;
  /** The provider a call uses unless the test names another. */
  provider: () => Provider;
  /** Told the fresh server before each test. */
  onServer: (server: VendorServer) => void;
}

/**
 * A vendor's side for each test of a file: a fresh {@link VendorServer} before each test, and
 * `call()`, a conversation with a provider against it (real sockets, a fake audio engine: Node has
 * no microphone), stopped after the test with the server.
 */
export function useVendorServer(setup: VendorCallSetup) {
  let server: VendorServer | null = null;
  const stops: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    server = await startVendorServer();
    setup.onServer(server);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await server?.stop();
    server = null;
  });
  function call(options: Partial<ConversationOptions> = {}, provider = setup.provider()) {
    if (server === null) throw new Error('call() runs inside a test');
    const audio = createFakeAudio();
    const conversation = createConversation({
      provider,
      url: `${server.origin}${setup.path}`,
      ...(setup.apiKey === undefined ? {} : { apiKey: setup.apiKey }),
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      AudioContext: FakeAudioContext as unknown as typeof AudioContext,
      audio: audio.factories,
      reconnect: false,
      ...options,
    });
    stops.push(() => conversation.stop());
    return { conversation, audio };
  }
  return { call };
}
