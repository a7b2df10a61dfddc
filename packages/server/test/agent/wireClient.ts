/**
 * A plain `ws` client for the dialect tests of protocols that are not PlayAI's: it keeps every
 * frame, text or binary, reads JSON out of text frames (and out of binary ones for protocols
 * that send JSON that way, as Gemini does), and waits for a message or the close.
 */
import WebSocket from 'ws';

export type WireMessage = Record<string, unknown>;

export interface WireClient {
  ws: WebSocket;
  /** Every JSON object received, in order. */
  messages: WireMessage[];
  /** Binary frames that are not JSON (audio), with the number of JSON messages before each. */
  audio: { after: number; bytes: Buffer }[];
  /** Text frames that are not JSON objects (garbage). */
  other: string[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first message at index >= `from` that `match` accepts; waits for it. */
  waitFor(match: (message: WireMessage) => boolean, from?: number, timeoutMs?: number): Promise<WireMessage>;
  close(): Promise<void>;
}

export function openWire(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string>; jsonInBinary?: boolean } = {},
): Promise<WireClient> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const messages: WireMessage[] = [];
  const audio: WireClient['audio'] = [];
  const other: string[] = [];
  const wakers = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString('utf8') };
      resolve(closeInfo);
      for (const wake of wakers) wake();
    });
  });
  ws.on('error', () => {});
  ws.on('message', (data: Buffer, isBinary) => {
    const parsed = !isBinary || options.jsonInBinary ? parseObject(data.toString('utf8')) : undefined;
    if (parsed) messages.push(parsed);
    else if (isBinary) audio.push({ after: messages.length, bytes: data });
    else other.push(data.toString('utf8'));
    for (const wake of wakers) wake();
  });
  const client: WireClient = {
    ws,
    messages,
    audio,
    other,
    closed,
    send(message) {
      ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
    },
    waitFor(match, from = 0, timeoutMs = 25_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < messages.length; i++) {
            if (match(messages[i]!)) {
              done();
              resolve(messages[i]!);
              return;
            }
          }
          if (closeInfo) {
            done();
            reject(
              new Error(`closed (${closeInfo.code} ${closeInfo.reason}) first; got ${summary(messages)}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no such message within ${timeoutMs} ms; got ${summary(messages)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        wakers.add(check);
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

/** The `type` of a message (Deepgram, Hume), or its first key (Gemini). */
export function kindOf(message: WireMessage): string {
  return typeof message.type === 'string' ? message.type : (Object.keys(message)[0] ?? '');
}

function parseObject(text: string): WireMessage | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as WireMessage)
      : undefined;
  } catch {
    return undefined;
  }
}

function summary(messages: WireMessage[]): string {
  return `[${messages.map((m) => kindOf(m)).join(', ')}]`;
}
