import { parseJsonObject, requireString, safeCopy } from '../parseJson.ts';
import type { ClientMessage, SetupMessage } from './messages.ts';
import { validateSetup } from './validateSetup.ts';

/** The outcome of reading one client frame; the same shape as {@link ParsedServerMessage}. */
export type ParsedClientMessage =
  | { kind: 'message'; message: ClientMessage }
  | { kind: 'unknown'; type: string; data: Record<string, unknown>; raw: string }
  | { kind: 'invalid'; error: string; raw: string };

/** Every client message type of the protocol. */
export const CLIENT_MESSAGE_TYPES = [
  'setup',
  'audioIn',
  'customInput',
] as const satisfies readonly ClientMessage['type'][];

/**
 * Read one text frame from a client (for the local agent and the relay). Never throws.
 *
 * A `setup` goes through {@link validateSetup}, so an unknown format, a missing `inputSampleRate`
 * for a headerless encoding or an out-of-range rate comes back as `invalid` with the exact reason
 * (the server answers it with 4400). The message returned holds the fields as the client sent
 * them, without the defaults filled in and without unknown extra fields.
 */
export function parseClientMessage(text: unknown): ParsedClientMessage {
  const raw = typeof text === 'string' ? text : '';
  try {
    const parsed = parseJsonObject(text, 'client message');
    if (!parsed.ok) return { kind: 'invalid', error: parsed.error, raw };
    const { value: o, type } = parsed;
    switch (type) {
      case 'setup': {
        const result = validateSetup(o);
        if (!result.ok) return { kind: 'invalid', error: `setup: ${result.message}`, raw };
        const message: SetupMessage = { type };
        const fields = [
          'apiKey',
          'outputFormat',
          'outputSampleRate',
          'inputEncoding',
          'inputSampleRate',
          'customGreeting',
          'prompt',
          'continueConversation',
        ] as const;
        // validateSetup has checked each present field's type and value.
        for (const field of fields) {
          const value = o[field];
          if (value !== undefined && value !== null)
            (message as unknown as Record<string, unknown>)[field] = value;
        }
        return { kind: 'message', message };
      }
      case 'audioIn':
      case 'customInput':
        return { kind: 'message', message: { type, data: requireString(o, 'data', type) } };
      default:
        return { kind: 'unknown', type, data: safeCopy(o), raw };
    }
  } catch (error) {
    return { kind: 'invalid', error: error instanceof Error ? error.message : String(error), raw };
  }
}
