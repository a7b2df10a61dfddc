import type { ClientMessage } from '../providers/playai/messages.ts';
import { parseClientMessage } from '../providers/playai/parseClientMessage.ts';

/** What the client sent on a fake socket: the raw text and, when it parsed, the message. */
export interface SentFrame {
  raw: string;
  /** The parsed message, or `null` when the frame was not a valid client message. */
  message: ClientMessage | null;
}

/**
 * An in-memory stand-in for the browser `WebSocket`: it never touches the network. The client
 * side behaves like the browser's (readyState, `on*` handlers and `addEventListener`, `send`
 * throwing while connecting); the test drives the server side with `serverOpen()`,
 * `serverSend()`, `serverClose()` and reads what the client sent from `sent`.
 *
 * Events are dispatched synchronously, so a test sees their effects on the next line.
 */
export class FakeWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readonly url: string;
  readonly protocol = '';
  readonly extensions = '';
  binaryType: BinaryType = 'blob';
  readyState = 0;
  /**
   * Bytes the client queued that "the network" has not taken yet. Stays 0 unless a test sets it
   * (to simulate a slow uplink).
   */
  bufferedAmount = 0;

  onopen: ((this: WebSocket, event: Event) => unknown) | null = null;
  onmessage: ((this: WebSocket, event: MessageEvent) => unknown) | null = null;
  onclose: ((this: WebSocket, event: CloseEvent) => unknown) | null = null;
  onerror: ((this: WebSocket, event: Event) => unknown) | null = null;

  /** Every frame the client sent, in order. */
  readonly sent: SentFrame[] = [];
  /** The close the client asked for, if any. */
  clientClose: { code: number | undefined; reason: string | undefined } | null = null;
  /** Called for each frame the client sends (after it is recorded). */
  onClientMessage: ((frame: SentFrame, socket: FakeWebSocket) => void) | null = null;

  constructor(url: string | URL, _protocols?: string | string[]) {
    super();
    this.url = String(url);
  }

  /** The parsed client messages, optionally of one type. */
  messages<T extends ClientMessage['type']>(type?: T): Extract<ClientMessage, { type: T }>[] {
    const out: Extract<ClientMessage, { type: T }>[] = [];
    for (const frame of this.sent) {
      if (frame.message !== null && (type === undefined || frame.message.type === type)) {
        out.push(frame.message as Extract<ClientMessage, { type: T }>);
      }
    }
    return out;
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.readyState === 0) {
      // What browsers do: sending before `open` is a programming error.
      throw new DOMException(
        "Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.",
        'InvalidStateError',
      );
    }
    if (this.readyState !== 1) return;
    const raw = typeof data === 'string' ? data : '';
    const parsed = parseClientMessage(raw);
    const frame: SentFrame = { raw, message: parsed.kind === 'message' ? parsed.message : null };
    this.sent.push(frame);
    this.onClientMessage?.(frame, this);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState === 2 || this.readyState === 3) return;
    this.clientClose = { code, reason };
    this.readyState = 3;
    this.fire('close', makeCloseEvent(code ?? 1005, reason ?? '', true));
  }

  // ------------------------------------------------------------------------------------------
  // The server's side

  /** Accept the connection: `open` fires on the client. */
  serverOpen(): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.fire('open', new Event('open'));
  }

  /** Deliver one frame to the client: an object is sent as JSON, a string as is. */
  serverSend(message: object | string): void {
    if (this.readyState !== 1) return;
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    this.fire('message', new MessageEvent('message', { data }));
  }

  /** Close from the server side (1006 simulates a dropped network). */
  serverClose(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    if (code === 1006) this.fire('error', new Event('error'));
    this.readyState = 3;
    this.fire('close', makeCloseEvent(code, reason, code !== 1006));
  }

  /** The connection could not be established (refused, DNS): `error` then `close` 1006. */
  serverRefuse(): void {
    this.serverClose(1006);
  }

  private fire(type: 'open' | 'message' | 'close' | 'error', event: Event): void {
    const handler = this[`on${type}`] as ((event: Event) => unknown) | null;
    if (typeof handler === 'function') handler.call(this, event);
    this.dispatchEvent(event);
  }
}

function makeCloseEvent(code: number, reason: string, wasClean: boolean): CloseEvent {
  const Ctor = (globalThis as { CloseEvent?: typeof CloseEvent }).CloseEvent;
  if (Ctor !== undefined) return new Ctor('close', { code, reason, wasClean });
  // Node has no CloseEvent: an Event with the same fields.
  return Object.assign(new Event('close'), { code, reason, wasClean }) as CloseEvent;
}
