/**
 * Shared helpers for the two message parsers. Internal: not re-exported from the package.
 */

/** Keys that would reach `Object.prototype` if a consumer ever merged a parsed message into another object. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type JsonObjectResult =
  | { ok: true; value: Record<string, unknown>; type: string }
  | { ok: false; error: string };

/**
 * Parse one text frame into a JSON object with a string `type`, without throwing. `JSON.parse`
 * itself creates `__proto__` as an ordinary own property, so parsing alone cannot pollute; the
 * copies handed to callers drop such keys so that a later `Object.assign` cannot either.
 */
export function parseJsonObject(text: unknown, what: string): JsonObjectResult {
  if (typeof text !== 'string') {
    const binary = text instanceof ArrayBuffer || ArrayBuffer.isView(text) || isBlob(text);
    return {
      ok: false,
      error: binary
        ? `expected a ${what} as a JSON text frame, got a binary frame (the protocol sends JSON text only)`
        : `expected a ${what} as a JSON text frame, got ${describeType(text)}`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `malformed JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `expected a JSON object, got ${describeType(value)}` };
  }
  const object = value as Record<string, unknown>;
  if (!Object.hasOwn(object, 'type')) return { ok: false, error: 'missing the "type" field' };
  const type = object.type;
  if (typeof type !== 'string')
    return { ok: false, error: `"type" must be a string, got ${describeType(type)}` };
  if (type === '') return { ok: false, error: '"type" must not be empty' };
  return { ok: true, value: object, type };
}

function isBlob(value: unknown): boolean {
  return typeof Blob === 'function' && value instanceof Blob;
}

/** A shallow copy without prototype-polluting keys. */
export function safeCopy(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    if (!UNSAFE_KEYS.has(key)) out[key] = object[key];
  }
  return out;
}

/** A short description of a value's JSON type, for error messages (never the value itself: it may be huge or secret). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'undefined';
    default:
      return `a ${typeof value}`;
  }
}

/** Thrown inside a parser to reject a field; caught before it leaves the parser. */
export class FieldError extends Error {}

export function requireString(object: Record<string, unknown>, field: string, type: string): string {
  const value = object[field];
  if (typeof value !== 'string') {
    throw new FieldError(
      value === undefined
        ? `${type}: missing the "${field}" field (a string)`
        : `${type}: "${field}" must be a string, got ${describeType(value)}`,
    );
  }
  return value;
}
