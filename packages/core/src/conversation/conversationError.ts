import { isVoicewireError, type VoicewireErrorKind } from '../errors.ts';
import type { ConversationError } from './types.ts';

export function fatalError(kind: VoicewireErrorKind, message: string): ConversationError {
  return { kind, message, fatal: true };
}

/** A VoicewireError keeps its kind and code; anything else becomes `fallback` with its message. */
export function toConversationError(error: unknown, fallback: VoicewireErrorKind): ConversationError {
  return isVoicewireError(error)
    ? { ...error.toJSON(), fatal: true }
    : fatalError(fallback, errorText(error));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
