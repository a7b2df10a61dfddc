import { describeType, parseJsonObject, safeCopy } from '../parseJson.ts';
import type { ServerMessage } from './messages.ts';

/**
 * The outcome of reading one server frame. Nothing the server sends can make the parser throw:
 * - `message`: a known type with the fields it needs, typed;
 * - `unknown`: well-formed JSON with a `type` this library does not know (ignore it, surface it
 *   to a debug callback);
 * - `invalid`: not JSON, not an object, no string `type`, or a known type with missing or
 *   wrong-typed required fields. `error` says which.
 */
export type ParsedServerMessage =
  | { kind: 'message'; message: ServerMessage }
  | { kind: 'unknown'; type: string; data: Record<string, unknown>; raw: string }
  | { kind: 'invalid'; error: string; raw: string };

/**
 * Types the deployed service sends that carry nothing a client needs (docs/protocol.md); they
 * parse as messages so they are not reported as unknown.
 */
export const IGNORABLE_SERVER_MESSAGE_TYPES = [
  'llmStreamEnd',
  'SYS_LOG',
  'MEDIA_LOG',
  'navigate',
  'uiEvent',
] as const;

/**
 * The fields of each known type, as one table (it keeps the parser small in the widget bundle):
 * `name!` a required non-empty string, `name` a required string, `name?` an optional string,
 * `name*` an optional value of any JSON type (copied as sent). `error` and `audioStreamEnd` get
 * special handling below. These are every server message PlayAI's SDK validates (docs/protocol.md).
 */
const FIELDS: Record<string, string[]> = {
  init: ['conversationId!', 'agentOwnerId?', 'language?'],
  audioStream: ['data'],
  newAudioStream: [],
  voiceActivityStart: [],
  voiceActivityEnd: [],
  onUserTranscript: ['message'],
  onAgentTranscript: ['message'],
  onAgentInterrupted: ['updatedMessage?'],
  onAgentGreeting: ['message'],
  onAgentGreetingEnd: ['message?'],
  audioStreamStart: [],
  audioStreamEnd: [],
  hangup: ['endedBy?'],
  customEvent: ['name', 'data*'],
  error: [],
  llmStreamEnd: [],
  SYS_LOG: ['payload*'],
  MEDIA_LOG: ['payload*'],
  navigate: ['pageDefinition?'],
  uiEvent: ['componentCode?', 'props*'],
};

/** Every server message type this library understands. */
export const SERVER_MESSAGE_TYPES = Object.keys(FIELDS) as readonly ServerMessage['type'][];

/**
 * Read one text frame from the server. Never throws, whatever `text` is (binary frames, `null`,
 * malformed JSON, deeply nested or huge input): a socket's message handler can call it directly.
 *
 * Required fields are checked strictly (`audioStream.data` a string, `error.code` a finite number,
 * `init.conversationId` a non-empty string). Optional fields that the real service is only
 * *observed* to send are dropped when they have an unexpected type rather than costing the whole
 * message (a `hangup` whose `endedBy` is an object still ends the call). The returned message is
 * a fresh object holding only the known fields, so extra keys (including `__proto__`) never
 * travel further.
 */
export function parseServerMessage(text: unknown): ParsedServerMessage {
  const raw = typeof text === 'string' ? text : '';
  try {
    const parsed = parseJsonObject(text, 'server message');
    if (!parsed.ok) return { kind: 'invalid', error: parsed.error, raw };
    const { value: o, type } = parsed;
    const fields = Object.hasOwn(FIELDS, type) ? FIELDS[type] : undefined;
    if (fields === undefined) return { kind: 'unknown', type, data: safeCopy(o), raw };

    const message: Record<string, unknown> = { type };
    for (const spec of fields) {
      if (spec.endsWith('*')) {
        const field = spec.slice(0, -1);
        if (Object.hasOwn(o, field) && o[field] !== undefined) message[field] = o[field];
        continue;
      }
      const optional = spec.endsWith('?');
      const nonEmpty = spec.endsWith('!');
      const field = optional || nonEmpty ? spec.slice(0, -1) : spec;
      const value = o[field];
      if (typeof value === 'string' && !(nonEmpty && value === '')) message[field] = value;
      else if (!optional) {
        const problem =
          value === undefined
            ? `missing the "${field}" field (a string)`
            : typeof value === 'string'
              ? `"${field}" must not be empty`
              : `"${field}" must be a string, got ${describeType(value)}`;
        return { kind: 'invalid', error: `${type}: ${problem}`, raw };
      }
    }
    if (type === 'audioStreamEnd') {
      // Top-level `message` and numeric `jobId` (the deployed service), or nested in an
      // `audioStreamEnd` object (the older form); the top level wins where both are given.
      const end = o.audioStreamEnd;
      const nested =
        typeof end === 'object' && end !== null && !Array.isArray(end)
          ? (end as Record<string, unknown>)
          : null;
      if (nested !== null) {
        const details: { message?: string; jobId?: number | string } = {};
        if (typeof nested.message === 'string') details.message = nested.message;
        if (isJobId(nested.jobId)) details.jobId = nested.jobId;
        message.audioStreamEnd = details;
      }
      const text = typeof o.message === 'string' ? o.message : nested?.message;
      if (typeof text === 'string') message.message = text;
      const jobId = isJobId(o.jobId) ? o.jobId : nested?.jobId;
      if (isJobId(jobId)) message.jobId = jobId;
    }
    if (type === 'error') {
      const { code, message: text, isFatal } = o;
      if (typeof code !== 'number' || !Number.isFinite(code)) {
        const problem =
          code === undefined
            ? 'missing the "code" field (a number)'
            : `"code" must be a finite number, got ${describeType(code)}`;
        return { kind: 'invalid', error: `error: ${problem}`, raw };
      }
      if (text !== undefined && text !== null && typeof text !== 'string') {
        return {
          kind: 'invalid',
          error: `error: "message" must be a string, got ${describeType(text)}`,
          raw,
        };
      }
      // A bare `{type:'error', code}` still ends or pauses the call, so it stays a message;
      // errorFromServerMessage() substitutes the code table's text for the empty message.
      message.code = code;
      message.message = typeof text === 'string' ? text : '';
      if (typeof isFatal === 'boolean') message.isFatal = isFatal;
    }
    return { kind: 'message', message: message as unknown as ServerMessage };
  } catch (error) {
    // Nothing above throws on purpose; this catches the absurd (a stack overflow on pathological input).
    return { kind: 'invalid', error: error instanceof Error ? error.message : String(error), raw };
  }
}

function isJobId(value: unknown): value is number | string {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
}
