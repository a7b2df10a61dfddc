/**
 * Which spans of a chunk's emitted code each input module produced, read from the chunk's source
 * map (the same attribution source-map-explorer makes): every mapping segment owns the code from
 * its column to the next segment's. Code before a line's first segment, or under a segment that
 * names no source, is the bundler's own (import/export statements, chunk wrappers).
 *
 * Columns are UTF-16 code units (what esbuild and Rolldown's minifier write), so spans are string
 * indices into `code`; `byteLength` turns them into UTF-8 bytes.
 */

export interface RawSourceMap {
  sources: (string | null)[];
  mappings: string;
}

/** A half-open range [start, end) of string indices into a chunk's code. */
export type Span = readonly [number, number];

/** Key for code no input module produced. */
export const BUNDLER_CODE = -1;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]));

/** Spans of `code` by source index (`BUNDLER_CODE` for the bundler's own code), adjacent spans merged. */
export function sourceSpans(code: string, map: RawSourceMap): Map<number, Span[]> {
  const spans = new Map<number, Span[]>();
  const add = (source: number, start: number, end: number) => {
    if (end <= start) return;
    const list = spans.get(source) ?? [];
    const last = list[list.length - 1];
    if (last && last[1] === start) list[list.length - 1] = [last[0], end];
    else list.push([start, end]);
    spans.set(source, list);
  };

  const lines = map.mappings.split(';');
  let lineStart = 0;
  let source = 0; // relative across the whole map, per the source map format
  for (let line = 0; line < lines.length && lineStart <= code.length; line++) {
    const newline = code.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? code.length : newline + 1; // the newline goes with the line
    let column = 0; // relative within the line
    let owner = BUNDLER_CODE;
    let ownerStart = lineStart;
    for (const segment of (lines[line] ?? '').split(',')) {
      if (segment === '') continue;
      const fields = decodeVlq(segment);
      column += fields[0]!;
      const at = Math.min(lineStart + column, lineEnd);
      add(owner, ownerStart, at);
      if (fields.length >= 4) {
        source += fields[1]!;
        owner = source;
      } else {
        owner = BUNDLER_CODE;
      }
      ownerStart = at;
    }
    add(owner, ownerStart, lineEnd);
    lineStart = lineEnd;
  }
  // Lines past the last mapped one (a trailing newline, say) are the bundler's.
  add(BUNDLER_CODE, lineStart, code.length);
  return spans;
}

/** The signed integers of one Base64 VLQ segment. */
function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64_VALUE.get(char);
    if (digit === undefined) throw new Error(`Invalid source map segment ${JSON.stringify(segment)}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** UTF-8 bytes of `code` inside `spans`. */
export function byteLength(code: string, spans: readonly Span[]): number {
  let bytes = 0;
  for (const [start, end] of spans) bytes += Buffer.byteLength(code.slice(start, end));
  return bytes;
}

/** `code` with `spans` (sorted, disjoint) cut out. */
export function without(code: string, spans: readonly Span[]): string {
  let out = '';
  let from = 0;
  for (const [start, end] of spans) {
    out += code.slice(from, start);
    from = end;
  }
  return out + code.slice(from);
}
