import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { audioBytes, connect } from './client.ts';
import { bandEnergyShare, correlation, decodeOutput, envelope, levelDb } from './decode.ts';

const GREETING = 'Hello there, this is a test.';

let agent: LocalAgent;
beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, log: false });
});
afterAll(() => agent.close());

/** Run a session until the greeting has been spoken; return what was received. */
async function greet(setup: Record<string, unknown>) {
  const client = await connect(`${agent.url}/greeter`);
  client.send({ type: 'setup', apiKey: 'test-key', ...setup });
  await client.waitFor('audioStreamEnd');
  await client.close();
  return client;
}

describe.concurrent('the greeting, in every output format', () => {
  test.each<[OutputFormat, number]>([
    ['mp3', 24_000],
    ['mp3', 16_000],
    ['raw', 16_000],
    ['wav', 22_050],
    ['wav', 48_000],
    ['ogg', 24_000],
    ['ogg', 44_100],
    ['flac', 16_000],
    ['flac', 44_100],
    ['mulaw', 8000],
  ])('%s at %i Hz decodes to the spoken greeting at that rate', async (format, rate) => {
    const client = await greet({ outputFormat: format, outputSampleRate: rate, customGreeting: GREETING });
    const types = client.messages.map((m) => m.type);
    // init, then the announcement, the audio, and the two end markers, in that order.
    expect(types[0]).toBe('init');
    expect(types[1]).toBe('onAgentGreeting');
    expect(client.messages[1]).toMatchObject({ message: GREETING });
    expect(types[2]).toBe('newAudioStream');
    const ends = types.indexOf('onAgentGreetingEnd');
    expect(types.slice(3, ends).every((t) => t === 'audioStream')).toBe(true);
    expect(types.slice(ends)).toEqual(['onAgentGreetingEnd', 'audioStreamEnd']);
    expect(client.messages[ends + 1]).toMatchObject({
      message: GREETING,
      jobId: expect.any(Number),
      audioStreamEnd: { message: GREETING, jobId: expect.any(Number) },
    });

    const decoded = await decodeOutput(format, audioBytes(client.messages), rate);
    expect(decoded.sampleRate).toBe(rate);
    const reference = await synthesizeSpeech(GREETING, { sampleRate: rate });
    const seconds = decoded.samples.length / rate;
    const expected = reference.length / rate;
    // Lossy codecs pad a little at the ends; nothing may be missing.
    expect(seconds).toBeGreaterThan(expected - 0.02);
    expect(seconds).toBeLessThan(expected + 0.15);
    // Speech, not silence or noise: loud enough and mostly in the speech band.
    expect(levelDb(decoded.samples)).toBeGreaterThan(-35);
    expect(bandEnergyShare(decoded.samples, rate, 150, Math.min(4000, rate / 2))).toBeGreaterThan(0.7);
    // And the same speech: its loudness contour follows the synthesiser's.
    const offset = bestLag(envelope(reference, rate), envelope(decoded.samples, rate));
    const env = envelope(decoded.samples, rate).subarray(offset);
    expect(correlation(envelope(reference, rate), env)).toBeGreaterThan(0.9);
  });

  test("a setup with only an apiKey gets the protocol's defaults: mp3 at 44100 Hz", async () => {
    const client = await greet({ customGreeting: 'Hi.' });
    const decoded = await decodeOutput('mp3', audioBytes(client.messages), 44_100);
    expect(decoded.sampleRate).toBe(44_100);
    expect(decoded.samples.length / 44_100).toBeGreaterThan(0.1);
    expect(levelDb(decoded.samples)).toBeGreaterThan(-35);
  });

  test('the default greeting is spoken when the setup has no customGreeting', async () => {
    const own = await startLocalAgent({ port: 0, log: false, greeting: 'Welcome to the test.' });
    try {
      const client = await connect(`${own.url}/greeter`);
      client.send({ type: 'setup', apiKey: 'k', outputFormat: 'raw', outputSampleRate: 16_000 });
      const { message } = await client.waitFor('onAgentGreeting');
      expect(message.message).toBe('Welcome to the test.');
      await client.close();
    } finally {
      await own.close();
    }
  });
});

describe('pacing', () => {
  test('audio arrives at about real time, in chunks of 40–100 ms, after a small first burst', async () => {
    const rate = 16_000;
    const client = await connect(`${agent.url}/greeter`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      outputFormat: 'raw',
      outputSampleRate: rate,
      customGreeting: 'This greeting is long enough to measure the pace at which it is sent.',
    });
    await client.waitFor('audioStreamEnd');
    await client.close();
    const chunks: { at: number; ms: number }[] = [];
    client.messages.forEach((m, i) => {
      if (m.type === 'audioStream') {
        chunks.push({
          at: client.times[i]!,
          ms: (Buffer.from(m.data as string, 'base64').length / 4 / rate) * 1000,
        });
      }
    });
    const totalMs = chunks.reduce((sum, c) => sum + c.ms, 0);
    expect(totalMs).toBeGreaterThan(2000);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.ms).toBeGreaterThanOrEqual(40);
      expect(chunk.ms).toBeLessThanOrEqual(100);
    }
    const t0 = chunks[0]!.at;
    // The first burst (everything within 10 ms of the first chunk) is at most 200 ms of audio.
    const burst = chunks.filter((c) => c.at - t0 <= 10).reduce((sum, c) => sum + c.ms, 0);
    expect(burst).toBeLessThanOrEqual(200);
    // The whole stream took about as long as it lasts (not a burst, not twice as slow).
    const spanMs = chunks[chunks.length - 1]!.at - t0;
    expect(spanMs).toBeGreaterThan(totalMs * 0.8);
    expect(spanMs).toBeLessThan(totalMs * 1.5);
    // At no point is the client more than a small cushion ahead of real time.
    let sent = 0;
    for (const chunk of chunks) {
      sent += chunk.ms;
      expect(sent - (chunk.at - t0)).toBeLessThan(300);
    }
  });

  test('Ogg pages arrive when their audio is due, not in bursts', async () => {
    const rate = 24_000;
    const client = await connect(`${agent.url}/greeter`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      outputFormat: 'ogg',
      outputSampleRate: rate,
      customGreeting: 'This greeting is long enough to measure the pace at which it is sent.',
    });
    await client.waitFor('audioStreamEnd');
    await client.close();
    const pages: { at: number; ms: number }[] = [];
    client.messages.forEach((m, i) => {
      if (m.type !== 'audioStream') return;
      const granule = lastGranule(Buffer.from(String(m.data), 'base64'));
      if (granule > 0) pages.push({ at: client.times[i]!, ms: (granule / rate) * 1000 });
    });
    expect(pages.length).toBeGreaterThan(15);
    const t0 = pages[0]!.at;
    for (const page of pages) {
      const ahead = page.ms - (page.at - t0);
      // Never far ahead of real time, and never so late that a player would run dry.
      expect(ahead).toBeLessThan(300);
      expect(ahead).toBeGreaterThan(-150);
    }
  });
});

/** The granule position (samples) of the last Ogg page in `bytes` that has one. */
function lastGranule(bytes: Buffer): number {
  let offset = 0;
  let granule = -1;
  while (offset + 27 <= bytes.length && bytes.toString('latin1', offset, offset + 4) === 'OggS') {
    const g = Number(bytes.readBigInt64LE(offset + 6));
    if (g >= 0) granule = g;
    const segments = bytes[offset + 26]!;
    let length = 27 + segments;
    for (let i = 0; i < segments; i++) length += bytes[offset + 27 + i]!;
    offset += length;
  }
  return granule;
}

/** The lag (in envelope blocks, 0–10) at which `b` best lines up with `a` (codec delay). */
function bestLag(a: Float64Array, b: Float64Array): number {
  let best = 0;
  let bestScore = -2;
  for (let lag = 0; lag <= 10; lag++) {
    const score = correlation(a, b.subarray(lag));
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}
