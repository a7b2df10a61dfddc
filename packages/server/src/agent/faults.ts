/**
 * Fault injection for the local agent, chosen by the client in the socket URL's query so that a
 * test (or a developer in the demo) can make one conversation fail without touching the server:
 *
 * - `?fault=drop:MS`        MS ms after setup the TCP connection is cut with no close frame (1006);
 * - `?fault=error:CODE:MS`  MS ms after setup the agent sends `{type:'error', code: CODE}` and closes;
 * - `?fault=garbage`        malformed frames are interleaved with the normal stream.
 *
 * Several may be combined with commas (`?fault=garbage,drop:3000`) or by repeating `fault`.
 */
import { describeErrorCode } from '@voicewire/core';
import type { SessionSocket } from './socket.ts';

export type Fault =
  | { kind: 'drop'; afterMs: number }
  | { kind: 'error'; code: number; afterMs: number }
  | { kind: 'garbage' };

export type ParseFaultsResult = { ok: true; faults: Fault[] } | { ok: false; error: string };

/** The longest delay a fault may ask for: anything longer is a typo, not a test. */
const MAX_FAULT_DELAY_MS = 3_600_000;

/** Parse every `fault` parameter of a query. No parameter at all means no faults. */
export function parseFaults(params: URLSearchParams): ParseFaultsResult {
  const faults: Fault[] = [];
  for (const value of params.getAll('fault')) {
    for (const raw of value.split(',')) {
      const spec = raw.trim();
      if (spec === '') continue;
      const fault = parseFault(spec);
      if (typeof fault === 'string') return { ok: false, error: fault };
      faults.push(fault);
    }
  }
  return { ok: true, faults };
}

function parseFault(spec: string): Fault | string {
  const parts = spec.split(':');
  const usage = 'expected drop:MS, error:CODE:MS or garbage';
  switch (parts[0]) {
    case 'drop': {
      if (parts.length !== 2) return `fault "${clip(spec)}": ${usage}`;
      const afterMs = parseDelay(parts[1]);
      if (afterMs === undefined) return `fault "${clip(spec)}": MS must be a whole number of milliseconds`;
      return { kind: 'drop', afterMs };
    }
    case 'error': {
      if (parts.length !== 3) return `fault "${clip(spec)}": ${usage}`;
      const code = Number(parts[1]);
      if (!/^\d{1,5}$/.test(parts[1] ?? '') || code < 1) {
        return `fault "${clip(spec)}": CODE must be a positive integer error code such as 4500`;
      }
      const afterMs = parseDelay(parts[2]);
      if (afterMs === undefined) return `fault "${clip(spec)}": MS must be a whole number of milliseconds`;
      return { kind: 'error', code, afterMs };
    }
    case 'garbage':
      if (parts.length !== 1) return `fault "${clip(spec)}": garbage takes no arguments`;
      return { kind: 'garbage' };
    default:
      return `unknown fault "${clip(spec)}": ${usage}`;
  }
}

function parseDelay(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,7}$/.test(text)) return undefined;
  const ms = Number(text);
  return ms <= MAX_FAULT_DELAY_MS ? ms : undefined;
}

/** What arming a call's faults needs from its session. */
export interface FaultTarget {
  socket: SessionSocket;
  /** Run `fn` in `ms` (cancelled when the session ends). */
  later(ms: number, fn: () => void): void;
  isLive(): boolean;
  close(code: number, reason: string): void;
}

/** Set a call's faults going, once its setup is accepted. */
export function armFaults(faults: readonly Fault[], target: FaultTarget): void {
  for (const fault of faults) {
    switch (fault.kind) {
      case 'garbage':
        target.socket.injectGarbage(GARBAGE_FRAMES);
        break;
      case 'drop':
        target.later(fault.afterMs, () => target.socket.cut(`fault drop:${fault.afterMs} (connection cut)`));
        break;
      case 'error':
        target.later(fault.afterMs, () => {
          if (!target.isLive()) return;
          const info = describeErrorCode(fault.code);
          const message = `${info.message} (injected by fault=error:${fault.code}:${fault.afterMs})`;
          target.socket.sendError(fault.code, message, true);
          target.close(closeCodeForError(fault.code), `fault error:${fault.code}`);
        });
        break;
    }
  }
}

/** The WebSocket close code that goes with a protocol error code (`?fault=error:CODE:MS`). */
export function closeCodeForError(code: number): number {
  if (code === 4500) return 1011;
  if (code === 4429) return 1013;
  return 1008;
}

/** Faults for the log line and error texts. */
export function describeFaults(faults: readonly Fault[]): string {
  return faults
    .map((f) =>
      f.kind === 'drop'
        ? `drop:${f.afterMs}`
        : f.kind === 'error'
          ? `error:${f.code}:${f.afterMs}`
          : 'garbage',
    )
    .join(',');
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The malformed frames `?fault=garbage` sends, in turn: each is something a robust client must
 * survive without losing the conversation (drop it, count it, surface it to a debug callback).
 * None is valid base64 audio, so none can corrupt the audio stream if it is dropped.
 */
export const GARBAGE_FRAMES: readonly string[] = [
  // Invalid JSON (truncated mid-message).
  '{"type":"audioStream","data":"AAAA',
  // An unknown message type.
  '{"type":"voicewireGarbage","note":"an unknown message type a client must ignore"}',
  // audioStream whose data is not base64.
  '{"type":"audioStream","data":"@@ not base64 at all! @@"}',
  // Wrong field types.
  '{"type":"audioStream","data":12345}',
  '{"type":"onAgentTranscript","message":{"not":"a string"}}',
  '{"type":"onUserTranscript","message":[1,2,3]}',
  // JSON that is not an object, or has no type.
  '[1,2,3]',
  'null',
  '{"data":"no type field"}',
  '{"type":42}',
  // Not JSON at all.
  'garbage \u0000 frame',
];
