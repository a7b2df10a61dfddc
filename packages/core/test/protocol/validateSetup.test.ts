import { describe, expect, it } from 'vitest';
import {
  createSetupMessage,
  HEADERLESS_INPUT_ENCODINGS,
  OUTPUT_FORMATS,
  parseClientMessage,
  validateSetup,
} from '../../src/providers/playai/protocol.ts';

describe('validateSetup', () => {
  it("fills in the protocol's defaults for a minimal setup", () => {
    expect(validateSetup({ type: 'setup', apiKey: 'k' })).toEqual({
      ok: true,
      setup: { apiKey: 'k', outputFormat: 'mp3', outputSampleRate: 44100, inputEncoding: 'media-container' },
    });
  });

  it("accepts the API page's examples", () => {
    expect(
      validateSetup({ type: 'setup', apiKey: 'k', inputEncoding: 'mulaw', inputSampleRate: 16000 }),
    ).toEqual({
      ok: true,
      setup: {
        apiKey: 'k',
        outputFormat: 'mp3',
        outputSampleRate: 44100,
        inputEncoding: 'mulaw',
        inputSampleRate: 16000,
      },
    });
    expect(
      validateSetup({ type: 'setup', apiKey: 'k', outputFormat: 'mp3', outputSampleRate: 24000 }),
    ).toMatchObject({
      ok: true,
      setup: { outputFormat: 'mp3', outputSampleRate: 24000 },
    });
    expect(
      validateSetup({
        type: 'setup',
        apiKey: 'k',
        inputEncoding: 'mulaw',
        inputSampleRate: 8000,
        outputFormat: 'mulaw',
        outputSampleRate: 8000,
      }),
    ).toMatchObject({
      ok: true,
      setup: { inputEncoding: 'mulaw', inputSampleRate: 8000, outputFormat: 'mulaw' },
    });
  });

  it('accepts every output format and input encoding', () => {
    for (const outputFormat of OUTPUT_FORMATS) {
      expect(validateSetup({ type: 'setup', outputFormat }).ok, outputFormat).toBe(true);
    }
    for (const inputEncoding of HEADERLESS_INPUT_ENCODINGS) {
      expect(validateSetup({ type: 'setup', inputEncoding, inputSampleRate: 16000 }).ok, inputEncoding).toBe(
        true,
      );
    }
    expect(validateSetup({ type: 'setup', inputEncoding: 'media-container' }).ok).toBe(true);
    expect(
      validateSetup({ type: 'setup', inputEncoding: 'media-container', inputSampleRate: 48000 }),
    ).toMatchObject({
      ok: true,
      setup: { inputSampleRate: 48000 },
    });
  });

  it('keeps the optional text fields and treats null as absent', () => {
    expect(
      validateSetup({
        type: 'setup',
        customGreeting: 'Hi there',
        prompt: 'Be brief',
        continueConversation: 'conv-1',
        outputFormat: null,
        inputSampleRate: null,
        unknownFutureField: { x: 1 },
      }),
    ).toEqual({
      ok: true,
      setup: {
        outputFormat: 'mp3',
        outputSampleRate: 44100,
        inputEncoding: 'media-container',
        customGreeting: 'Hi there',
        prompt: 'Be brief',
        continueConversation: 'conv-1',
      },
    });
  });

  it('says exactly what is wrong', () => {
    const cases: [unknown, string | undefined, RegExp][] = [
      [null, undefined, /setup must be a JSON object, got null/],
      ['setup', undefined, /got a string/],
      [{ type: 'audioIn', data: '' }, 'type', /first message must be of type "setup", got "audioIn"/],
      [{ apiKey: 'k' }, 'type', /must be of type "setup"/],
      [
        { type: 'setup', outputFormat: 'aac' },
        'outputFormat',
        /"outputFormat" must be one of "mp3", "raw".*got "aac"/,
      ],
      [{ type: 'setup', outputFormat: 3 }, 'outputFormat', /got a number/],
      [{ type: 'setup', outputFormat: 'MP3' }, 'outputFormat', /got "MP3"/],
      [
        { type: 'setup', inputEncoding: 'pcm' },
        'inputEncoding',
        /"inputEncoding" must be "media-container" or one of.*"linear16".*got "pcm"/,
      ],
      [
        { type: 'setup', inputEncoding: 'linear16' },
        'inputSampleRate',
        /"inputSampleRate" is required when "inputEncoding" is "linear16"/,
      ],
      [
        { type: 'setup', inputEncoding: 'g729' },
        'inputSampleRate',
        /required when "inputEncoding" is "g729"/,
      ],
      [
        { type: 'setup', inputEncoding: 'mulaw', inputSampleRate: 7999 },
        'inputSampleRate',
        /7999 Hz is out of range: must be an integer from 8000 to 96000 Hz/,
      ],
      [{ type: 'setup', outputSampleRate: 96001 }, 'outputSampleRate', /96001 Hz is out of range/],
      [{ type: 'setup', outputSampleRate: 0 }, 'outputSampleRate', /out of range/],
      [{ type: 'setup', outputSampleRate: -44100 }, 'outputSampleRate', /out of range/],
      [
        { type: 'setup', outputSampleRate: 44100.5 },
        'outputSampleRate',
        /must be an integer from 8000 to 96000 Hz, got 44100.5/,
      ],
      [{ type: 'setup', outputSampleRate: '44100' }, 'outputSampleRate', /got a string/],
      [{ type: 'setup', outputSampleRate: Number.NaN }, 'outputSampleRate', /got NaN/],
      [{ type: 'setup', apiKey: 42 }, 'apiKey', /"apiKey" must be a string, got a number/],
      [{ type: 'setup', prompt: ['x'] }, 'prompt', /"prompt" must be a string, got an array/],
      [{ type: 'setup', customGreeting: {} }, 'customGreeting', /got an object/],
      [{ type: 'setup', continueConversation: 1 }, 'continueConversation', /must be a string/],
      [{ type: 'setup', continueConversation: '' }, 'continueConversation', /not empty/],
    ];
    for (const [input, field, message] of cases) {
      const result = validateSetup(input);
      expect(result.ok, JSON.stringify(input)).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe(4400);
        expect(result.field).toBe(field);
        expect(result.message).toMatch(message);
      }
    }
  });

  it('accepts the ends of the sample-rate range', () => {
    expect(validateSetup({ type: 'setup', outputSampleRate: 8000 }).ok).toBe(true);
    expect(validateSetup({ type: 'setup', outputSampleRate: 96000 }).ok).toBe(true);
  });
});

describe('createSetupMessage', () => {
  it('omits undefined fields', () => {
    expect(
      createSetupMessage({
        apiKey: 'k',
        outputFormat: undefined,
        inputEncoding: 'mulaw',
        inputSampleRate: 16000,
      }),
    ).toEqual({
      type: 'setup',
      apiKey: 'k',
      inputEncoding: 'mulaw',
      inputSampleRate: 16000,
    });
    expect(JSON.stringify(createSetupMessage())).toBe('{"type":"setup"}');
    expect(JSON.stringify(createSetupMessage({ prompt: undefined, customGreeting: 'Hi' }))).toBe(
      '{"type":"setup","customGreeting":"Hi"}',
    );
  });
});

describe('parseClientMessage', () => {
  it('reads setup, audioIn and customInput', () => {
    expect(
      parseClientMessage(
        '{"type":"setup","apiKey":"k","inputEncoding":"linear16","inputSampleRate":16000,"x":1}',
      ),
    ).toEqual({
      kind: 'message',
      message: { type: 'setup', apiKey: 'k', inputEncoding: 'linear16', inputSampleRate: 16000 },
    });
    expect(parseClientMessage('{"type":"audioIn","data":""}')).toEqual({
      kind: 'message',
      message: { type: 'audioIn', data: '' },
    });
    expect(parseClientMessage('{"type":"customInput","data":"hello"}')).toEqual({
      kind: 'message',
      message: { type: 'customInput', data: 'hello' },
    });
  });

  it('rejects bad setups with the validator message', () => {
    const result = parseClientMessage('{"type":"setup","inputEncoding":"mulaw"}');
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.error).toMatch(/setup: "inputSampleRate" is required/);
  });

  it('rejects malformed frames and reports unknown types', () => {
    for (const [input, error] of [
      ['{"type":"audioIn"}', /audioIn: missing the "data" field/],
      ['{"type":"audioIn","data":12}', /"data" must be a string, got a number/],
      ['{"type":"customInput","data":null}', /got null/],
      ['{bad', /malformed JSON/],
      ['[]', /got an array/],
    ] as const) {
      const result = parseClientMessage(input);
      expect(result.kind, input).toBe('invalid');
      if (result.kind === 'invalid') expect(result.error).toMatch(error);
    }
    expect(parseClientMessage(Buffer.from('{"type":"audioIn","data":""}'))).toMatchObject({
      kind: 'invalid',
      error: expect.stringMatching(/binary frame/),
    });
    expect(parseClientMessage('{"type":"ping","__proto__":{"x":1}}')).toEqual({
      kind: 'unknown',
      type: 'ping',
      data: { type: 'ping' },
      raw: '{"type":"ping","__proto__":{"x":1}}',
    });
  });
});
