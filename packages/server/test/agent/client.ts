/**
 * A minimal talk-protocol client for the local agent's tests: a real `ws` socket that records
 * every frame it receives, so a test can wait for a message and then look at the whole sequence.
 */
import WebSocket from 'ws';

export type ServerFrame = Record<string, unknown> & { type: string };

export interface TestClient {
  ws: WebSocket;
  /** Every text frame that parsed as a JSON object with a string `type`, in order. */
  messages: ServerFrame[];
  /** Every text frame as received (garbage included). */
  raw: string[];
  /** When each entry of `messages` arrived (performance.now()). */
  times: number[];
  /** Resolves with the close code and reason once the socket is closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first message of `type` at index >= `from`; waits for it if needed. */
  waitFor(type: string, from?: number, timeoutMs?: number): Promise<{ message: ServerFrame; index: number }>;
  close(): Promise<void>;
}

/** `protocols` and `headers` as a browser (subprotocols) or a Node client (headers) sends them. */
export function connect(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<TestClient> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const messages: ServerFrame[] = [];
  const raw: string[] = [];
  const times: number[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString('utf8') };
      resolve(closeInfo);
      for (const wake of waiters) wake();
    });
  });
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    raw.push(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { type?: unknown }).type === 'string'
    ) {
      messages.push(parsed as ServerFrame);
      times.push(performance.now());
      for (const wake of waiters) wake();
    }
  });
  const client: TestClient = {
    ws,
    messages,
    raw,
    times,
    closed,
    send(message) {
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    waitFor(type, from = 0, timeoutMs = 25_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < messages.length; i++) {
            if (messages[i]!.type === type) {
              cleanup();
              resolve({ message: messages[i]!, index: i });
              return;
            }
          }
          if (closeInfo) {
            cleanup();
            reject(
              new Error(
                `socket closed (${closeInfo.code}) before a "${type}" message; got ${types(messages)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no "${type}" message within ${timeoutMs} ms; got ${types(messages)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
        ws.close(1000, 'test done');
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

function types(messages: ServerFrame[]): string {
  const counts: string[] = [];
  let last = '';
  let n = 0;
  for (const m of messages) {
    if (m.type === last) n++;
    else {
      if (last) counts.push(n > 1 ? `${last}×${n}` : last);
      last = m.type;
      n = 1;
    }
  }
  if (last) counts.push(n > 1 ? `${last}×${n}` : last);
  return `[${counts.join(', ')}]`;
}

/** Decode every `audioStream` chunk from `from` on and join the bytes. */
export function audioBytes(messages: ServerFrame[], from = 0, to = messages.length): Uint8Array {
  const parts: Buffer[] = [];
  for (let i = from; i < to; i++) {
    const m = messages[i]!;
    if (m.type === 'audioStream' && typeof m.data === 'string') parts.push(Buffer.from(m.data, 'base64'));
  }
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}
