/**
 * A session's side of its WebSocket: text and binary frames out (with the garbage a
 * `?fault=garbage` call asked for), errors capped so a misbehaving client cannot make the agent
 * flood it, the close handshake, and what the log line says about how it ended.
 */
import WebSocket from 'ws';

/** Frames prepared as bytes are still JSON text frames. */
const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;
/** How long a peer has to answer the agent's close frame before the connection is cut. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 30_000;

export class SessionSocket {
  readonly #ws: WebSocket;
  #garbageFrames: readonly string[] | undefined;
  #garbageCount = 0;
  #errorsSent = 0;
  #closedByAgent: { code: number; reason: string } | undefined;
  #socketError: string | undefined;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    // ws reports protocol violations (invalid UTF-8, a frame over maxPayload) here, then closes.
    ws.on('error', (error) => {
      this.#socketError ??= error.message;
    });
  }

  /** Interleave these malformed frames with everything sent from now on. */
  injectGarbage(frames: readonly string[]): void {
    this.#garbageFrames = frames;
  }

  /** A text frame, as a string or as prepared UTF-8 bytes. */
  sendText(data: string | Buffer): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(data, TEXT_FRAME);
    this.#afterFrame(ws);
  }

  /** A binary frame (protocols that carry audio as bytes, such as Deepgram's). */
  sendBinary(data: Uint8Array): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(data, BINARY_FRAME);
    this.#afterFrame(ws);
  }

  /**
   * Whether one more error frame may go out: the count is capped so that a client sending garbage
   * at 50 frames a second does not get 50 errors a second back.
   */
  allowError(): boolean {
    return ++this.#errorsSent <= 100 || this.#errorsSent % 50 === 0;
  }

  #afterFrame(ws: WebSocket): void {
    // One malformed frame after the first message and after every third one from then on.
    const garbage = this.#garbageFrames;
    if (garbage && garbage.length > 0 && this.#garbageCount++ % 3 === 0) {
      ws.send(garbage[Math.floor(this.#garbageCount / 3) % garbage.length]!, TEXT_FRAME);
    }
  }

  /** Close from the agent's side; a peer that never answers the close frame is cut off. */
  close(code: number, reason: string): void {
    // A close frame's reason is at most 123 bytes of UTF-8 (ws throws past that); a reason may
    // quote what a client sent.
    const fitted = fitCloseReason(reason);
    this.#closedByAgent ??= { code, reason: fitted };
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, fitted);
    // Generous: a browser starved of CPU answers late, and a cut here is an unclean close (1006)
    // that the client reports as an error rather than as the agent's hang-up.
    const timer = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  /** Cut the TCP connection with no close frame (the peer sees 1006). */
  cut(reason: string): void {
    this.#closedByAgent ??= { code: 1006, reason };
    this.#ws.terminate();
  }

  /** How the connection ended, for the log line. */
  describeClose(code: number, reason: string): string {
    if (this.#closedByAgent)
      return `closed by agent ${this.#closedByAgent.code} "${this.#closedByAgent.reason}"`;
    if (this.#socketError) return `closed ${code} after a socket error: ${clip(this.#socketError)}`;
    return `closed by client ${code}${reason ? ` "${clip(reason)}"` : ''}`;
  }
}

const MAX_CLOSE_REASON_BYTES = 123;

function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let fitted = '';
  for (const character of reason) {
    if (Buffer.byteLength(`${fitted}${character}…`, 'utf8') > MAX_CLOSE_REASON_BYTES) break;
    fitted += character;
  }
  return `${fitted}…`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
