import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Base64Error, decodeBase64, encodeBase64 } from '../../src/index.ts';

const bytesOf = (text: string) => new TextEncoder().encode(text);

describe('encodeBase64 / decodeBase64', () => {
  it('matches the RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase64(bytesOf(plain))).toBe(encoded);
      expect(Array.from(decodeBase64(encoded))).toEqual(Array.from(bytesOf(plain)));
    }
  });

  it('agrees with Node on every byte value and many lengths', () => {
    let seed = 7;
    for (let length = 0; length < 300; length++) {
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      const expected = Buffer.from(bytes).toString('base64');
      expect(encodeBase64(bytes)).toBe(expected);
      expect(Buffer.from(decodeBase64(expected)).equals(Buffer.from(bytes))).toBe(true);
    }
    const all = new Uint8Array(256).map((_, i) => i);
    expect(encodeBase64(all)).toBe(Buffer.from(all).toString('base64'));
  });

  it('handles large payloads (more than one string chunk)', () => {
    const bytes = new Uint8Array(300_001).map((_, i) => (i * 31) & 0xff);
    const encoded = encodeBase64(bytes);
    expect(encoded).toBe(Buffer.from(bytes).toString('base64'));
    expect(Buffer.from(decodeBase64(encoded)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('encodes a view without the rest of its buffer', () => {
    const backing = bytesOf('xxfoobarxx');
    expect(encodeBase64(backing.subarray(2, 8))).toBe('Zm9vYmFy');
  });

  it('accepts unpadded input', () => {
    expect(Array.from(decodeBase64('Zg'))).toEqual([0x66]);
    expect(Array.from(decodeBase64('Zm8'))).toEqual([0x66, 0x6f]);
    expect(Array.from(decodeBase64('Zm9vYg'))).toEqual(Array.from(bytesOf('foob')));
  });

  it('rejects malformed input with a Base64Error that says what and where', () => {
    const cases: [string, RegExp, number | undefined][] = [
      ['Zm9v YmFy', /invalid base64 character U\+0020 \(whitespace.*\) at index 4/, 4],
      ['Zm9v\nYmFy', /U\+000A .* at index 4/, 4],
      ['Zm9v-mFy', /invalid base64 character "-" \(U\+002D\) at index 4/, 4],
      ['Zm9_', /"_" \(U\+005F\) at index 3/, 3],
      ['Zm9vé', /"é" \(U\+00E9\) at index 4/, 4],
      ['Zm9v\u{1F600}', /at index 4/, 4],
      ['Zg==Zg==', /"=" \(padding is only allowed at the end\) at index 2/, 2],
      ['Z=g=', /"=" \(padding is only allowed at the end\) at index 1/, 1],
      ['Zm9vY', /single character in the last group/, 4],
      ['Z', /single character/, 0],
      ['Zg=', /padded input must be a multiple of 4 characters long, got 3/, 2],
      ['Zm9=v', /"=" .* at index 3/, 3],
      ['Zg===', /more than two "=" padding characters/, undefined],
      ['====', /more than two "="/, undefined],
      ['Z===', /more than two "="/, undefined],
    ];
    for (const [input, message, index] of cases) {
      let caught: unknown;
      try {
        decodeBase64(input);
      } catch (error) {
        caught = error;
      }
      expect(caught, input).toBeInstanceOf(Base64Error);
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Base64Error).name).toBe('Base64Error');
      expect((caught as Base64Error).message, input).toMatch(message);
      if (index !== undefined) expect((caught as Base64Error).index, input).toBe(index);
    }
    expect(() => decodeBase64(42 as unknown as string)).toThrow(/must be a string, got number/);
  });

  it('does not depend on atob or btoa', () => {
    const { atob, btoa } = globalThis;
    try {
      // @ts-expect-error simulate an AudioWorkletGlobalScope, which has neither.
      delete globalThis.atob;
      // @ts-expect-error as above
      delete globalThis.btoa;
      expect(decodeBase64(encodeBase64(bytesOf('worklet')))).toEqual(bytesOf('worklet'));
    } finally {
      globalThis.atob = atob;
      globalThis.btoa = btoa;
    }
  });
});
