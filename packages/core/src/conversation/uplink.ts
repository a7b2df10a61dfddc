import { encodeBase64 } from '../codec/base64.ts';
import { type Connection, isOpen, sendText } from './connection.ts';
import type { StatsRecorder } from './stats.ts';

/**
 * What the conversation sends: microphone frames and `customInput` text. While no session is
 * set up (connecting, reconnecting) both wait and go out right after the next `setup`: the last
 * `maxPendingFrames` of audio (older frames are dropped and counted), every text. On a live
 * socket, a frame is dropped (and counted) rather than queued behind `maxBacklogFrames` of
 * unsent audio.
 */
export interface Uplink {
  /** Send a frame now, or keep a copy until the session is set up (the capture recycles its buffers). */
  frame(conn: Connection | null, frame: Uint8Array): void;
  customInput(conn: Connection | null, text: string): void;
  /** Send anything that waited; call right after `setup`. */
  flush(conn: Connection): void;
  /** Any text frame (`setup`): true when sent. Counts its bytes. */
  send(conn: Connection, text: string): boolean;
  clear(): void;
}

export function createUplink(
  limits: { maxPendingFrames: number; maxBacklogFrames: number },
  stats: StatsRecorder,
): Uplink {
  let pendingFrames: Uint8Array[] = [];
  let pendingTexts: string[] = [];
  const totals = stats.totals;

  const send = (conn: Connection, text: string): boolean => {
    if (!sendText(conn, text)) return false;
    totals.bytesSent += text.length;
    return true;
  };
  const sendFrame = (conn: Connection, frame: Uint8Array): void => {
    const text = `{"type":"audioIn","data":"${encodeBase64(frame)}"}`;
    if (conn.ws.bufferedAmount + text.length > text.length * limits.maxBacklogFrames) {
      totals.framesDropped += 1;
      return;
    }
    if (send(conn, text)) totals.framesSent += 1;
    else totals.framesDropped += 1;
  };
  const ready = (conn: Connection | null): conn is Connection => conn?.setupSent === true && isOpen(conn);

  return {
    frame(conn, frame) {
      if (ready(conn)) {
        sendFrame(conn, frame);
        return;
      }
      if (pendingFrames.length >= limits.maxPendingFrames) {
        pendingFrames.shift();
        totals.framesDropped += 1;
      }
      pendingFrames.push(frame.slice());
    },
    customInput(conn, text) {
      if (conn?.setupSent && send(conn, customInputMessage(text))) return;
      // Connecting or reconnecting: deliver it right after the next setup.
      pendingTexts.push(text);
    },
    flush(conn) {
      const frames = pendingFrames;
      pendingFrames = [];
      for (const frame of frames) sendFrame(conn, frame);
      const texts = pendingTexts;
      pendingTexts = [];
      for (const text of texts) send(conn, customInputMessage(text));
    },
    send,
    clear() {
      pendingFrames = [];
      pendingTexts = [];
    },
  };
}

function customInputMessage(text: string): string {
  return JSON.stringify({ type: 'customInput', data: text });
}
