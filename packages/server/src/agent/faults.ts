/**
 * Fault injection for the local agent, chosen by the client in the socket URL's query so that a
 * test (or a developer in the demo) can make one conversation fail without touching the server:
 *
 * - `?fault=drop:MS`        MS ms after setup the TCP connection is cut with no close frame (1006);
 * - `?fault=error:CODE:MS`  MS ms after setup the agent sends error CODE (in each dialect's own
 *                           shape) and closes;
 * - `?fault=garbage`        malformed frames (each dialect's own) are interleaved with the normal stream.
 *
 * Several may be combined with commas (`?fault=garbage,drop:3000`) or by repeating `fault`.
 * "Setup" is each protocol's handshake: PlayAI's `setup`, OpenAI's `session.created`, ElevenLabs'
 * `conversation_initiation_metadata`.
 */
import { describeErrorCode } from '@voicewire/core';

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
  /** Interleave these malformed frames with everything sent from now on. */
  injectGarbage(): void;
  /** Cut the TCP connection with no close frame. */
  cut(reason: string): void;
  /** Say error `code` the dialect's way, as the call fails. */
  sendError(code: number, message: string): void;
  /** Run `fn` in `ms` (cancelled when the session ends). */
  later(ms: number, fn: () => void): void;
  isLive(): boolean;
  close(code: number, reason: string): void;
}

/** Set a call's faults going, once its handshake is accepted. */
export function armFaults(faults: readonly Fault[], target: FaultTarget): void {
  for (const fault of faults) {
    switch (fault.kind) {
      case 'garbage':
        target.injectGarbage();
        break;
      case 'drop':
        target.later(fault.afterMs, () => target.cut(`fault drop:${fault.afterMs} (connection cut)`));
        break;
      case 'error':
        target.later(fault.afterMs, () => {
          if (!target.isLive()) return;
          const info = describeErrorCode(fault.code);
          const message = `${info.message} (injected by fault=error:${fault.code}:${fault.afterMs})`;
          target.sendError(fault.code, message);
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
 * Malformed frames any JSON protocol's client must survive: each dialect adds its own (its audio
 * message with data that is not audio, its known types with fields of the wrong type).
 */
export const COMMON_GARBAGE_FRAMES: readonly string[] = [
  '[1,2,3]',
  'null',
  '{"data":"no type field"}',
  '{"type":42}',
  'garbage \u0000 frame',
];
