import { describe, expect, it } from 'vitest';
import { VoicewireError } from '../../src/index.ts';
import {
  describeErrorCode,
  ERROR_CODES,
  errorFromServerMessage,
  KNOWN_ERROR_CODES,
  parseServerMessage,
} from '../../src/providers/playai/protocol.ts';

describe('ERROR_CODES', () => {
  it('covers every documented code with its text, kind and retry policy', () => {
    const expected: [number, string, string, boolean, boolean][] = [
      [1001, 'Invalid authorization token.', 'unauthorized', true, false],
      [1002, 'Invalid agent id.', 'agent-not-found', true, false],
      [1003, 'Invalid authorization credentials.', 'unauthorized', true, false],
      [1005, 'Not enough credits.', 'insufficient-credits', true, false],
      [4400, 'Invalid parameters.', 'invalid-parameters', true, false],
      [4401, 'Unauthorized.', 'unauthorized', true, false],
      [
        4429,
        'You have reached the maximum number of concurrent connections',
        'too-many-connections',
        false,
        true,
      ],
      [4500, 'Generic error code for internal errors', 'server-error', false, true],
    ];
    expect(Object.keys(ERROR_CODES).map(Number)).toEqual([...KNOWN_ERROR_CODES]);
    for (const [code, text, kind, fatal, retryable] of expected) {
      const info = ERROR_CODES[code as keyof typeof ERROR_CODES];
      expect(info.code).toBe(code);
      expect(info.message.startsWith(text), `${code}`).toBe(true);
      expect(info.kind).toBe(kind);
      expect(info.fatal).toBe(fatal);
      expect(info.retryable).toBe(retryable);
      expect(info.userMessage.length).toBeGreaterThan(10);
      expect(info.userMessage).not.toMatch(/api key|token|4\d\d\d/i);
    }
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    expect(Object.isFrozen(ERROR_CODES[4400])).toBe(true);
  });

  it('describes unknown codes as retryable server errors', () => {
    expect(describeErrorCode(4999)).toMatchObject({
      code: 4999,
      kind: 'server-error',
      fatal: false,
      retryable: true,
    });
    expect(describeErrorCode(4999).message).toMatch(/4999/);
    expect(describeErrorCode(4401)).toBe(ERROR_CODES[4401]);
  });
});

describe('errorFromServerMessage', () => {
  it('maps a parsed server error to a VoicewireError', () => {
    const parsed = parseServerMessage('{"type":"error","code":1002,"message":"No agent Agent-x"}');
    if (parsed.kind !== 'message' || parsed.message.type !== 'error')
      throw new Error('expected an error message');
    const error = errorFromServerMessage(parsed.message);
    expect(error).toBeInstanceOf(VoicewireError);
    expect(error.toJSON()).toEqual({
      kind: 'agent-not-found',
      code: 1002,
      message: 'No agent Agent-x',
      fatal: true,
    });
  });

  it('honours isFatal from the server over the table', () => {
    expect(errorFromServerMessage({ type: 'error', code: 4500, message: 'x', isFatal: true }).fatal).toBe(
      true,
    );
    expect(errorFromServerMessage({ type: 'error', code: 4400, message: 'x', isFatal: false }).fatal).toBe(
      false,
    );
    expect(errorFromServerMessage({ type: 'error', code: 4429, message: 'x' }).fatal).toBe(false);
    expect(errorFromServerMessage({ type: 'error', code: 1005, message: 'x' }).toJSON()).toEqual({
      kind: 'insufficient-credits',
      code: 1005,
      message: 'x',
      fatal: true,
    });
  });

  it("uses the code table's text when the server sends none", () => {
    expect(errorFromServerMessage({ type: 'error', code: 1001, message: '' }).message).toBe(
      'Invalid authorization token.',
    );
    expect(errorFromServerMessage({ type: 'error', code: 7, message: '' })).toMatchObject({
      kind: 'server-error',
      code: 7,
      fatal: false,
    });
  });
});
