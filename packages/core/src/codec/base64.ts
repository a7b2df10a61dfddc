/**
 * Base64 (RFC 4648 §4, standard alphabet) for `Uint8Array`, in plain TypeScript.
 *
 * Why not `atob`/`btoa`: they work on "binary strings" (one char per byte) and so need a
 * per-byte string round trip, they are missing in an AudioWorkletGlobalScope, and `atob`
 * silently accepts whitespace. This implementation is table-driven, linear in the input and
 * builds its output string in chunks of 8 K characters (never `str += char` per byte, never one
 * `String.fromCharCode(...bytes)` that blows the argument limit on large frames).
 *
 * Decoding is strict about everything that signals corruption and lenient only where the meaning
 * is unambiguous:
 * - accepted: padded input, and unpadded input (length ≡ 2 or 3 mod 4), because several
 *   encoders omit the padding and the data is still exactly determined;
 * - accepted: non-zero unused bits in the last character (as `atob` and Node do);
 * - rejected with a {@link Base64Error}: any character outside `A–Z a–z 0–9 + /` (including
 *   whitespace, line breaks and the URL-safe `-`/`_`), `=` anywhere but the end, more than two
 *   `=`, padded text whose length is not a multiple of 4, and a length ≡ 1 mod 4 (a lone final
 *   character cannot encode a byte).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='
const INVALID = 0xff;
/** Characters per `String.fromCharCode.apply` call: well under every engine's argument limit (a multiple of 4). */
const STRING_CHUNK_CHARS = 0x2000;

/** Thrown by {@link decodeBase64} for malformed input; `index` is where the problem is, when one place is to blame. */
export class Base64Error extends Error {
  override readonly name = 'Base64Error';
  readonly index: number | undefined;
  constructor(message: string, index?: number) {
    super(message);
    this.index = index;
  }
}

let encodeTable: Uint8Array | undefined;
let decodeTable: Uint8Array | undefined;

function getEncodeTable(): Uint8Array {
  if (encodeTable === undefined) {
    encodeTable = new Uint8Array(64);
    for (let i = 0; i < 64; i++) encodeTable[i] = ALPHABET.charCodeAt(i);
  }
  return encodeTable;
}

function getDecodeTable(): Uint8Array {
  if (decodeTable === undefined) {
    decodeTable = new Uint8Array(128).fill(INVALID);
    for (let i = 0; i < 64; i++) decodeTable[ALPHABET.charCodeAt(i)] = i;
  }
  return decodeTable;
}

/** Encode bytes as padded standard base64 (what the talk protocol's `data` fields carry). */
export function encodeBase64(bytes: Uint8Array): string {
  const table = getEncodeTable();
  const n = bytes.length;
  const whole = n - (n % 3);
  const parts: string[] = [];
  // Character codes go into a plain array: `String.fromCharCode.apply` takes a plain array on
  // V8's fast path but copies a typed array element by element (measured 20-30x slower).
  const chunkChars = Math.min(STRING_CHUNK_CHARS, Math.ceil(n / 3) * 4);
  const chunk: number[] = new Array<number>(chunkChars).fill(0);
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk[o] = table[v >> 18]!;
    chunk[o + 1] = table[(v >> 12) & 63]!;
    chunk[o + 2] = table[(v >> 6) & 63]!;
    chunk[o + 3] = table[v & 63]!;
    o += 4;
    if (o === chunkChars) {
      parts.push(String.fromCharCode.apply(null, chunk));
      o = 0;
    }
  }
  if (n - whole === 1) {
    const v = bytes[whole]!;
    chunk[o] = table[v >> 2]!;
    chunk[o + 1] = table[(v & 3) << 4]!;
    chunk[o + 2] = PAD;
    chunk[o + 3] = PAD;
    o += 4;
  } else if (n - whole === 2) {
    const v = (bytes[whole]! << 8) | bytes[whole + 1]!;
    chunk[o] = table[v >> 10]!;
    chunk[o + 1] = table[(v >> 4) & 63]!;
    chunk[o + 2] = table[(v & 15) << 2]!;
    chunk[o + 3] = PAD;
    o += 4;
  }
  if (o > 0) {
    chunk.length = o;
    parts.push(String.fromCharCode.apply(null, chunk));
  }
  return parts.length === 1 ? parts[0]! : parts.join('');
}

/**
 * Decode standard base64 to bytes. Throws a {@link Base64Error} naming the problem and its
 * index for malformed input (see the module comment for exactly what is accepted).
 */
export function decodeBase64(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new Base64Error(`base64 input must be a string, got ${text === null ? 'null' : typeof text}`);
  }
  let length = text.length;
  // Padding: up to two '=' at the very end, and only on a whole number of 4-character groups.
  let padding = 0;
  while (length > 0 && text.charCodeAt(length - 1) === PAD && padding < 3) {
    length--;
    padding++;
  }
  if (padding > 2) {
    throw new Base64Error(`invalid base64: more than two "=" padding characters at the end`, length);
  }
  if (padding > 0 && text.length % 4 !== 0) {
    throw new Base64Error(
      `invalid base64: padded input must be a multiple of 4 characters long, got ${text.length}`,
      text.length - padding,
    );
  }
  const tail = length % 4;
  if (tail === 1) {
    // A stray character (say, a space) is the likelier cause of a bad length: report it instead.
    const bad = firstInvalidIndex(text, 0, length);
    if (bad < length) throw invalidCharacter(text, bad);
    throw new Base64Error(
      `invalid base64: ${length} data characters leave a single character in the last group, which cannot encode a byte (truncated input?)`,
      length - 1,
    );
  }

  const table = getDecodeTable();
  const out = new Uint8Array((length >> 2) * 3 + (tail === 0 ? 0 : tail - 1));
  const whole = length - tail;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    // Every alphabet character is ASCII: anything above 0x7f is bad, and the rest index the table.
    if ((c0 | c1 | c2 | c3) > 0x7f) throw invalidCharacter(text, i);
    const a = table[c0]!;
    const b = table[c1]!;
    const c = table[c2]!;
    const d = table[c3]!;
    // Valid values are 0..63, so one OR finds an INVALID (0xff) among the four.
    if ((a | b | c | d) > 63) throw invalidCharacter(text, i);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >> 16;
    out[o + 1] = (v >> 8) & 0xff;
    out[o + 2] = v & 0xff;
    o += 3;
  }
  if (tail > 0) {
    const a = table[text.charCodeAt(whole)] ?? INVALID;
    const b = table[text.charCodeAt(whole + 1)] ?? INVALID;
    const c = tail === 3 ? (table[text.charCodeAt(whole + 2)] ?? INVALID) : 0;
    if (a === INVALID || b === INVALID || c === INVALID) throw invalidCharacter(text, whole);
    out[o] = (a << 2) | (b >> 4);
    if (tail === 3) out[o + 1] = ((b & 15) << 4) | (c >> 2);
  }
  return out;
}

function firstInvalidIndex(text: string, from: number, to: number): number {
  const table = getDecodeTable();
  let index = from;
  while (index < to && (table[text.charCodeAt(index)] ?? INVALID) !== INVALID) index++;
  return index;
}

function invalidCharacter(text: string, from: number): Base64Error {
  const index = firstInvalidIndex(text, from, text.length);
  const code = text.charCodeAt(index);
  const shown =
    code === PAD
      ? '"=" (padding is only allowed at the end)'
      : code < 0x21 || code === 0x7f
        ? `U+${code.toString(16).toUpperCase().padStart(4, '0')} (whitespace and control characters are not allowed)`
        : `"${text[index]}" (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return new Base64Error(`invalid base64 character ${shown} at index ${index}`, index);
}
