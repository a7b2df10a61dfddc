import type { ServerMessage } from './messages.ts';
import { describeType, parseJsonObject, safeCopy } from './parseJson.ts';

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

/** Observed types that carry nothing a client needs; they parse as messages so they are not reported as unknown. */
export const IGNORABLE_SERVER_MESSAGE_TYPES = [
  'llmStreamEnd',
  'SYS_LOG',
  'MEDIA_LOG',
  'navigate',
  'uiEvent',
] as const;

/**
 * The fields of each known type, as one table (it keeps the parser small in the widget bundle):
 * `name!` a required non-empty string, `name` a required string, `name?` an optional string.
 * `error`, `audioStreamEnd`, `customEvent.data` and the ignorable types get special handling below.
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
  customEvent: ['name'],
  error: [],
};

/** Every server message type this library understands. */
export const SERVER_MESSAGE_TYPES = [
  ...(Object.keys(FIELDS) as ServerMessage['type'][]),
  ...IGNORABLE_SERVER_MESSAGE_TYPES,
] as readonly ServerMessage['type'][];

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
    if ((IGNORABLE_SERVER_MESSAGE_TYPES as readonly string[]).includes(type)) {
      return { kind: 'message', message: { ...safeCopy(o), type } as ServerMessage };
    }
    const fields = Object.hasOwn(FIELDS, type) ? FIELDS[type] : undefined;
    if (fields === undefined) return { kind: 'unknown', type, data: safeCopy(o), raw };

    const message: Record<string, unknown> = { type };
    for (const spec of fields) {
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
    if (type === 'customEvent' && Object.hasOwn(o, 'data')) message.data = o.data;
    if (type === 'audioStreamEnd') {
      const end = o.audioStreamEnd;
      if (typeof end === 'object' && end !== null && !Array.isArray(end)) {
        const details: Record<string, string> = {};
        for (const key of ['message', 'jobId']) {
          const value = (end as Record<string, unknown>)[key];
          if (typeof value === 'string') details[key] = value;
        }
        message.audioStreamEnd = details;
      }
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
      // errorFromServerMessage() substitutes the seed's text for the empty message.
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
