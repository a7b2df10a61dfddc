import { describe, expect, it } from 'vitest';
import { parseServerMessage } from '../../src/providers/playai/protocol.ts';

const ok = (value: unknown) => parseServerMessage(JSON.stringify(value));

describe('parseServerMessage', () => {
  it('reads every documented and observed message type', () => {
    const cases: [unknown, unknown][] = [
      [
        { type: 'init', conversationId: 'c1', agentOwnerId: 'o1', language: 'en' },
        { type: 'init', conversationId: 'c1', agentOwnerId: 'o1', language: 'en' },
      ],
      [
        { type: 'audioStream', data: 'AAAA' },
        { type: 'audioStream', data: 'AAAA' },
      ],
      [
        { type: 'audioStream', data: '' },
        { type: 'audioStream', data: '' },
      ],
      [{ type: 'newAudioStream' }, { type: 'newAudioStream' }],
      [{ type: 'voiceActivityStart' }, { type: 'voiceActivityStart' }],
      [{ type: 'voiceActivityEnd' }, { type: 'voiceActivityEnd' }],
      [
        { type: 'onUserTranscript', message: 'hi' },
        { type: 'onUserTranscript', message: 'hi' },
      ],
      [
        { type: 'onAgentTranscript', message: 'hello' },
        { type: 'onAgentTranscript', message: 'hello' },
      ],
      [
        { type: 'onAgentInterrupted', updatedMessage: 'hel' },
        { type: 'onAgentInterrupted', updatedMessage: 'hel' },
      ],
      [{ type: 'onAgentInterrupted' }, { type: 'onAgentInterrupted' }],
      [
        { type: 'onAgentGreeting', message: 'Welcome' },
        { type: 'onAgentGreeting', message: 'Welcome' },
      ],
      [
        { type: 'onAgentGreetingEnd', message: 'Welcome' },
        { type: 'onAgentGreetingEnd', message: 'Welcome' },
      ],
      [{ type: 'audioStreamStart' }, { type: 'audioStreamStart' }],
      // The nested (older) form: its fields are also given at the top level.
      [
        { type: 'audioStreamEnd', audioStreamEnd: { message: 'done', jobId: 'j1' } },
        {
          type: 'audioStreamEnd',
          message: 'done',
          jobId: 'j1',
          audioStreamEnd: { message: 'done', jobId: 'j1' },
        },
      ],
      // The deployed service's form: top-level message and a numeric jobId.
      [
        { type: 'audioStreamEnd', message: 'done', jobId: 17 },
        { type: 'audioStreamEnd', message: 'done', jobId: 17 },
      ],
      // Both (what the local agent sends): the top level wins.
      [
        {
          type: 'audioStreamEnd',
          message: 'top',
          jobId: 3,
          audioStreamEnd: { message: 'nested', jobId: 'j3' },
        },
        {
          type: 'audioStreamEnd',
          message: 'top',
          jobId: 3,
          audioStreamEnd: { message: 'nested', jobId: 'j3' },
        },
      ],
      // Wrong-typed optional fields are dropped, not the message.
      [{ type: 'audioStreamEnd', message: 5, jobId: { n: 1 } }, { type: 'audioStreamEnd' }],
      [{ type: 'audioStreamEnd' }, { type: 'audioStreamEnd' }],
      [
        { type: 'onAgentGreetingEnd', message: '' },
        { type: 'onAgentGreetingEnd', message: '' },
      ],
      [
        { type: 'hangup', endedBy: 'agent' },
        { type: 'hangup', endedBy: 'agent' },
      ],
      [
        { type: 'customEvent', name: 'x', data: { a: [1, 2] } },
        { type: 'customEvent', name: 'x', data: { a: [1, 2] } },
      ],
      [
        { type: 'error', code: 4429, message: 'busy', isFatal: false },
        { type: 'error', code: 4429, message: 'busy', isFatal: false },
      ],
      [
        { type: 'error', code: 4500, message: 'x' },
        { type: 'error', code: 4500, message: 'x' },
      ],
      [{ type: 'llmStreamEnd' }, { type: 'llmStreamEnd' }],
      // The shapes PlayAI's SDK validates (docs/protocol.md); unknown extra fields are dropped.
      [
        { type: 'SYS_LOG', payload: { level: 'info', conversationId: 'c1' } },
        { type: 'SYS_LOG', payload: { level: 'info', conversationId: 'c1' } },
      ],
      [
        { type: 'MEDIA_LOG', payload: 'x', level: 2 },
        { type: 'MEDIA_LOG', payload: 'x' },
      ],
      [
        { type: 'navigate', pageDefinition: '/a', url: '/a' },
        { type: 'navigate', pageDefinition: '/a' },
      ],
      [
        { type: 'uiEvent', componentCode: 'Card', props: { title: 't' } },
        { type: 'uiEvent', componentCode: 'Card', props: { title: 't' } },
      ],
      [{ type: 'uiEvent', componentCode: 7 }, { type: 'uiEvent' }],
      [
        { type: 'hangup', endedBy: 'system' },
        { type: 'hangup', endedBy: 'system' },
      ],
      [
        { type: 'error', code: 1001, message: 'Invalid authorization token.', isFatal: true },
        { type: 'error', code: 1001, message: 'Invalid authorization token.', isFatal: true },
      ],
    ];
    for (const [input, expected] of cases) {
      expect(ok(input), JSON.stringify(input)).toEqual({ kind: 'message', message: expected });
    }
  });

  it('keeps only known fields of known types', () => {
    expect(ok({ type: 'voiceActivityStart', extra: 1 })).toEqual({
      kind: 'message',
      message: { type: 'voiceActivityStart' },
    });
    expect(ok({ type: 'audioStream', data: 'AA==', secret: 'x' })).toEqual({
      kind: 'message',
      message: { type: 'audioStream', data: 'AA==' },
    });
  });

  it('returns unknown types with their fields, never throwing', () => {
    const raw = JSON.stringify({ type: 'somethingNew', value: 42 });
    expect(parseServerMessage(raw)).toEqual({
      kind: 'unknown',
      type: 'somethingNew',
      data: { type: 'somethingNew', value: 42 },
      raw,
    });
  });

  it('rejects input that is not a JSON object with a string type', () => {
    const cases: [unknown, RegExp][] = [
      ['not json', /malformed JSON/],
      ['{"type":"audioStream",', /malformed JSON/],
      ['', /malformed JSON/],
      ['null', /expected a JSON object, got null/],
      ['42', /got a number/],
      ['"audioStream"', /got a string/],
      ['[{"type":"init"}]', /got an array/],
      ['{}', /missing the "type" field/],
      ['{"type":7}', /"type" must be a string, got a number/],
      ['{"type":""}', /must not be empty/],
      [undefined, /got undefined/],
      [null, /got null/],
      [new ArrayBuffer(4), /got a binary frame/],
      [new Uint8Array([123, 125]), /got a binary frame/],
      [new Blob(['{}']), /got a binary frame/],
      [{ type: 'init', conversationId: 'c' }, /got an object/],
      [12, /got a number/],
    ];
    for (const [input, error] of cases) {
      const result = parseServerMessage(input);
      expect(result.kind, String(input)).toBe('invalid');
      if (result.kind === 'invalid') {
        expect(result.error).toMatch(error);
        expect(result.raw).toBe(typeof input === 'string' ? input : '');
      }
    }
  });

  it('rejects known types whose required fields are missing or of the wrong type', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'init' }, /init: missing the "conversationId" field/],
      [{ type: 'init', conversationId: '' }, /init: "conversationId" must not be empty/],
      [{ type: 'init', conversationId: 5 }, /init: "conversationId" must be a string, got a number/],
      [{ type: 'audioStream' }, /audioStream: missing the "data" field/],
      [{ type: 'audioStream', data: null }, /audioStream: "data" must be a string, got null/],
      [{ type: 'audioStream', data: [1, 2] }, /got an array/],
      [{ type: 'audioStream', data: { length: 3 } }, /got an object/],
      [{ type: 'onUserTranscript' }, /onUserTranscript: missing the "message" field/],
      [{ type: 'onAgentTranscript', message: 3 }, /onAgentTranscript: "message" must be a string/],
      [{ type: 'onAgentGreeting', message: false }, /got a boolean/],
      [{ type: 'customEvent' }, /customEvent: missing the "name" field/],
      [{ type: 'error', message: 'x' }, /error: missing the "code" field/],
      [{ type: 'error', code: '4400', message: 'x' }, /"code" must be a finite number, got a string/],
      [{ type: 'error', code: null, message: 'x' }, /got null/],
      [{ type: 'error', code: 4400, message: { text: 'x' } }, /"message" must be a string, got an object/],
    ];
    for (const [input, error] of cases) {
      const result = ok(input);
      expect(result.kind, JSON.stringify(input)).toBe('invalid');
      if (result.kind === 'invalid') expect(result.error).toMatch(error);
    }
    // JSON cannot carry NaN/Infinity, but 1e999 parses as Infinity.
    const infinite = parseServerMessage('{"type":"error","code":1e999,"message":"x"}');
    expect(infinite.kind).toBe('invalid');
    if (infinite.kind === 'invalid') expect(infinite.error).toMatch(/finite number, got Infinity/);
  });

  it('drops optional fields of unexpected types instead of losing the message', () => {
    expect(ok({ type: 'hangup', endedBy: { who: 'agent' } })).toEqual({
      kind: 'message',
      message: { type: 'hangup' },
    });
    expect(ok({ type: 'init', conversationId: 'c', language: 3, agentOwnerId: null })).toEqual({
      kind: 'message',
      message: { type: 'init', conversationId: 'c' },
    });
    expect(ok({ type: 'onAgentInterrupted', updatedMessage: 7 })).toEqual({
      kind: 'message',
      message: { type: 'onAgentInterrupted' },
    });
    expect(ok({ type: 'error', code: 4500, message: 'x', isFatal: 'yes' })).toEqual({
      kind: 'message',
      message: { type: 'error', code: 4500, message: 'x' },
    });
    expect(ok({ type: 'audioStreamEnd', audioStreamEnd: 'x' })).toEqual({
      kind: 'message',
      message: { type: 'audioStreamEnd' },
    });
  });

  it('keeps an error that has a code but no message', () => {
    expect(ok({ type: 'error', code: 4429 })).toEqual({
      kind: 'message',
      message: { type: 'error', code: 4429, message: '' },
    });
  });

  it('cannot be used to pollute Object.prototype', () => {
    const payloads = [
      '{"type":"uiEvent","__proto__":{"polluted":true}}',
      '{"type":"whatever","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      '{"type":"customEvent","name":"x","data":{"__proto__":{"polluted":true}}}',
      '{"__proto__":{"type":"init","conversationId":"c"}}',
    ];
    for (const payload of payloads) {
      const result = parseServerMessage(payload);
      if (result.kind === 'unknown') {
        expect(Object.hasOwn(result.data, '__proto__')).toBe(false);
        expect(Object.hasOwn(result.data, 'constructor')).toBe(false);
        Object.assign({}, result.data);
      }
      if (result.kind === 'message') {
        expect(Object.hasOwn(result.message, '__proto__')).toBe(false);
        Object.assign({}, result.message);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    // A type inherited through __proto__ is not a type.
    expect(parseServerMessage('{"__proto__":{"type":"init","conversationId":"c"}}').kind).toBe('invalid');
  });

  it('survives huge and deeply nested input', () => {
    const bigData = 'A'.repeat(8 * 1024 * 1024);
    const big = parseServerMessage(JSON.stringify({ type: 'audioStream', data: bigData }));
    expect(big.kind).toBe('message');
    if (big.kind === 'message' && big.message.type === 'audioStream')
      expect(big.message.data.length).toBe(bigData.length);

    const deep = `{"type":"customEvent","name":"x","data":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(['message', 'invalid']).toContain(parseServerMessage(deep).kind);
    const unterminated = `{"type":"x","a":${'['.repeat(500_000)}`;
    expect(parseServerMessage(unterminated).kind).toBe('invalid');
  });

  it('never throws on random mutations of valid frames', () => {
    const seeds = [
      '{"type":"init","conversationId":"abc"}',
      '{"type":"audioStream","data":"AAEC"}',
      '{"type":"error","code":4400,"message":"bad","isFatal":true}',
      '{"type":"customEvent","name":"n","data":{"k":[1,2,3]}}',
    ];
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const kinds = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const seed = seeds[i % seeds.length]!;
      const chars = seed.split('');
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, String.fromCharCode(Math.floor(random() * 128)));
        else chars[at] = String.fromCharCode(Math.floor(random() * 128));
      }
      const result = parseServerMessage(chars.join(''));
      kinds.add(result.kind);
    }
    expect(kinds).toEqual(new Set(['message', 'unknown', 'invalid']));
  });
});
