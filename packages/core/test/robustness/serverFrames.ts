/**
 * Random and mutated server frames for the robustness tests. Seeded, so a failure names its seed
 * and frame index and reproduces exactly.
 *
 * Frames that legitimately end or pause a conversation (a well-formed `error` with a numeric code,
 * `hangup`) are left out of the random stream: the point is that *garbage* changes nothing a user
 * would notice, not that a real hangup is ignored. Malformed `error` and `hangup` frames are in.
 */

/** mulberry32: tiny, fast, and good enough to spread frames over every category. */
export function createRandom(seed: number): {
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
} {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (maxExclusive) => Math.floor(next() * maxExclusive),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (p) => next() < p,
  };
}

type Random = ReturnType<typeof createRandom>;

export type Frame = string | ArrayBuffer;

function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random.int(256);
  return bytes;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function randomText(random: Random, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABC,.!?\'"\\/{}[]:0123456789éü中文😀\u0000\u2028\ud800';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.int(alphabet.length)];
  return out;
}

/** Audio that decodes: a chunk of the session's output format, of a plausible size. */
export function validAudioChunk(random: Random, format: 'mulaw' | 'raw' | 'wav'): string {
  const bytes =
    format === 'raw'
      ? 4 * (80 + random.int(800))
      : format === 'wav'
        ? 2 * (80 + random.int(800))
        : 80 + random.int(800);
  return base64(randomBytes(random, bytes));
}

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER,
  '',
  ' ',
  [],
  [1, 2, 3],
  {},
  { nested: { deeper: [null] } },
  '\u0000',
  'null',
  'undefined',
  '__proto__',
];

/** Types a mutated frame may claim; not `hangup` or `error` with a valid code (see the header). */
const TYPES = [
  'init',
  'audioStream',
  'newAudioStream',
  'voiceActivityStart',
  'voiceActivityEnd',
  'onUserTranscript',
  'onAgentTranscript',
  'onAgentInterrupted',
  'onAgentGreeting',
  'onAgentGreetingEnd',
  'audioStreamStart',
  'audioStreamEnd',
  'customEvent',
  'llmStreamEnd',
  'SYS_LOG',
  'MEDIA_LOG',
  'navigate',
  'uiEvent',
  'someFutureType',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'AUDIOSTREAM',
  '',
];

/** A well-formed message of a benign kind (what a healthy server would send). */
function validMessage(random: Random, format: 'mulaw' | 'raw' | 'wav'): Record<string, unknown> {
  switch (random.int(12)) {
    case 0:
      return { type: 'newAudioStream' };
    case 1:
    case 2:
    case 3:
      return { type: 'audioStream', data: validAudioChunk(random, format) };
    case 4:
      return { type: 'voiceActivityStart' };
    case 5:
      return { type: 'voiceActivityEnd' };
    case 6:
      return { type: 'onUserTranscript', message: randomText(random, random.int(40)) };
    case 7:
      return { type: 'onAgentTranscript', message: randomText(random, random.int(80)) };
    case 8:
      return random.chance(0.5)
        ? { type: 'onAgentInterrupted', updatedMessage: randomText(random, random.int(30)) }
        : { type: 'onAgentInterrupted' };
    case 9:
      return { type: random.pick(['audioStreamStart', 'audioStreamEnd', 'llmStreamEnd', 'SYS_LOG']) };
    case 10:
      return { type: 'customEvent', name: randomText(random, 8), data: { n: random.int(100) } };
    default:
      return {
        type: random.pick(['onAgentGreeting', 'onAgentGreetingEnd']),
        message: randomText(random, 20),
      };
  }
}

function mutate(random: Random, message: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...message };
  const keys = Object.keys(copy);
  switch (random.int(7)) {
    case 0:
      copy.type = random.pick(TYPES);
      break;
    case 1: {
      const key = random.pick(keys.length > 1 ? keys.filter((k) => k !== 'type') : ['data', 'message']);
      copy[key] = random.pick(WEIRD_VALUES);
      break;
    }
    case 2:
      delete copy[random.pick(keys)];
      break;
    case 3:
      copy.type = random.pick(WEIRD_VALUES);
      break;
    case 4:
      copy[randomText(random, 6)] = random.pick(WEIRD_VALUES);
      break;
    case 5:
      // Prototype pollution attempts must stay inert.
      return JSON.parse(
        `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},${JSON.stringify(copy).slice(1)}`,
      );
    default:
      copy.extra = { deep: [randomText(random, 10), random.pick(WEIRD_VALUES)] };
  }
  return copy;
}

const BAD_BASE64 = [
  '!!!!',
  'abc',
  'A',
  '====',
  'AB=C',
  'a b c d',
  'AAAA\nAAAA',
  '😀😀',
  '%%%%',
  '-_-_',
  'AAA=AAA=',
  '\u0000\u0000\u0000\u0000',
];

/**
 * One frame. Categories, roughly: 30% valid benign messages, 20% mutated shapes, 12% bad JSON,
 * 10% bad base64, 10% truncated or misaligned audio, 6% malformed error/hangup/init, 6% binary,
 * 5.5% unknown types, 0.5% huge (1 MB) strings.
 */
export function nextFrame(random: Random, format: 'mulaw' | 'raw' | 'wav'): Frame {
  const roll = random.next();
  if (roll < 0.3) return JSON.stringify(validMessage(random, format));
  if (roll < 0.5) return JSON.stringify(mutate(random, validMessage(random, format)));
  if (roll < 0.62) {
    const valid = JSON.stringify(validMessage(random, format));
    switch (random.int(8)) {
      case 0:
        return valid.slice(0, random.int(valid.length));
      case 1:
        return randomText(random, random.int(200));
      case 2:
        return '';
      case 3:
        return random.pick([
          'null',
          'true',
          '42',
          '"audioStream"',
          '[]',
          '[{"type":"audioStream"}]',
          'NaN',
          'undefined',
          '{}',
        ]);
      case 4:
        return `${'['.repeat(5000)}${']'.repeat(5000)}`;
      case 5:
        return `{"type":"audioStream","data":"AAAA"${','.repeat(random.int(3) + 1)}}`;
      case 6:
        return valid.replace(/"/g, "'");
      default:
        return `${valid}${valid}`;
    }
  }
  if (roll < 0.72) return JSON.stringify({ type: 'audioStream', data: random.pick(BAD_BASE64) });
  if (roll < 0.82) {
    // Valid base64 of audio with a length no decoder expects: odd bytes, a sample split in two, nothing.
    const length = random.pick([0, 1, 2, 3, 5, 7, 4 * 100 + 1, 4 * 100 + 2, 4 * 100 + 3, 2 * 321 + 1]);
    const bytes = randomBytes(random, length);
    // Sometimes a truncated WAV header, as if a stream's first chunk were cut.
    if (random.chance(0.3) && length >= 4) bytes.set([0x52, 0x49, 0x46, 0x46]);
    return JSON.stringify({ type: 'audioStream', data: base64(bytes) });
  }
  if (roll < 0.88) {
    return JSON.stringify(
      random.pick([
        { type: 'error' },
        { type: 'error', code: '4500', message: 'string code' },
        { type: 'error', code: null },
        { type: 'error', code: Number.NaN },
        { type: 'error', code: { nested: 1 } },
        { type: 'error', code: 4500, message: 12 },
        { type: 'init' },
        { type: 'init', conversationId: '' },
        { type: 'init', conversationId: 42 },
        { type: 'hangupp', endedBy: 'agent' },
        { type: 'HANGUP' },
        { type: 'customEvent' },
        { type: 'customEvent', name: 7 },
      ]),
    );
  }
  if (roll < 0.94) {
    const bytes = randomBytes(random, random.int(2000));
    return bytes.buffer.slice(0) as ArrayBuffer;
  }
  if (roll < 0.995)
    return JSON.stringify({ type: `x-${randomText(random, 8)}`, payload: randomText(random, 50) });
  // Huge strings: a 1 MB transcript, a 1 MB unknown field, 1 MB of base64 garbage.
  const huge = 'A'.repeat(1_000_000);
  return JSON.stringify(
    random.pick([
      { type: 'onAgentTranscript', message: 'x'.repeat(1_000_000) },
      { type: 'someFutureType', blob: huge },
      { type: 'audioStream', data: `${huge.slice(0, 999_998)}!!` },
      { type: 'onUserTranscript', message: '😀'.repeat(250_000) },
    ]),
  );
}
