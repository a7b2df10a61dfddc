import type { OutgoingFrame } from '../providers/types.ts';
import { type Connection, isOpen, sendFrame } from './connection.ts';
import type { StatsRecorder } from './stats.ts';

/**
 * What the conversation sends: microphone frames, text input, and the provider's own frames.
 * While the socket cannot take audio yet (connecting, reconnecting, waiting for the server's
 * answer) audio and text wait and go out as soon as it can: the last `maxPendingFrames` of audio
 * (older frames are dropped and counted), every text. On a live socket, a frame is dropped (and
 * counted) rather than queued behind `maxBacklogFrames` of unsent audio.
 */
export interface Uplink {
  /** Send a frame now, or keep a copy until the socket takes audio (the capture recycles its buffers). */
  frame(conn: Connection | null, frame: Uint8Array): void;
  /** Text input from the user: sent now, or once the socket takes audio. */
  text(conn: Connection | null, text: string): void;
  /** Send anything that waited; called when the socket can take it (see `takesAudio`). */
  flush(conn: Connection): void;
  /** Any frame of the provider's (opening frames, replies, controls): true when sent. Counts its bytes. */
  send(conn: Connection, frame: OutgoingFrame): boolean;
  clear(): void;
}

/** The socket takes audio: the server answered, or the provider streams right after its opening. */
export function takesAudio(conn: Connection | null): conn is Connection {
  if (conn === null || !isOpen(conn)) return false;
  return conn.ready || (conn.opened && conn.socket.audioBeforeReady);
}

export function createUplink(
  limits: { maxPendingFrames: number; maxBacklogFrames: number },
  stats: StatsRecorder,
): Uplink {
  let pendingFrames: Uint8Array[] = [];
  let pendingTexts: string[] = [];
  const totals = stats.totals;

  const send = (conn: Connection, frame: OutgoingFrame): boolean => {
    if (!sendFrame(conn, frame)) return false;
    totals.bytesSent += sizeOf(frame);
    return true;
  };
  const sendAudio = (conn: Connection, frame: Uint8Array): void => {
    const out = conn.socket.audio(frame);
    const size = sizeOf(out);
    if (conn.ws.bufferedAmount + size > size * limits.maxBacklogFrames) {
      totals.framesDropped += 1;
      return;
    }
    if (send(conn, out)) totals.framesSent += 1;
    else totals.framesDropped += 1;
  };
  const sendText = (conn: Connection, text: string): boolean => {
    const frames = conn.socket.text(text);
    if (frames === null) return true;
    for (const frame of frames) if (!send(conn, frame)) return false;
    return true;
  };

  return {
    frame(conn, frame) {
      if (takesAudio(conn)) {
        sendAudio(conn, frame);
        return;
      }
      if (pendingFrames.length >= limits.maxPendingFrames) {
        pendingFrames.shift();
        totals.framesDropped += 1;
      }
      pendingFrames.push(frame.slice());
    },
    text(conn, text) {
      if (takesAudio(conn) && sendText(conn, text)) return;
      // Connecting or reconnecting: deliver it as soon as the socket takes it.
      pendingTexts.push(text);
    },
    flush(conn) {
      const frames = pendingFrames;
      pendingFrames = [];
      for (const frame of frames) sendAudio(conn, frame);
      const texts = pendingTexts;
      pendingTexts = [];
      for (const text of texts) sendText(conn, text);
    },
    send,
    clear() {
      pendingFrames = [];
      pendingTexts = [];
    },
  };
}

/** Bytes a frame puts on the wire (a text frame's length in UTF-16 units, close enough for ASCII JSON). */
function sizeOf(frame: OutgoingFrame): number {
  return typeof frame === 'string' ? frame.length : frame.byteLength;
}
