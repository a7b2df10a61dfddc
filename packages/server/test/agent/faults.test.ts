import { parseServerMessage } from '@voicewire/core';
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { audioBytes, connect } from './client.ts';
import { decodeOutput, levelDb } from './decode.ts';

let agent: LocalAgent;
let logs: string[];
beforeAll(async () => {
  logs = [];
  agent = await startLocalAgent({ port: 0, log: (line) => logs.push(line) });
});
afterAll(() => agent.close());

describe.concurrent('fault injection through the URL query', () => {
  test('drop:MS cuts the connection MS ms after setup without a close frame (1006)', async () => {
    const client = await connect(`${agent.url}/faulty?fault=drop:300`);
    const setupAt = performance.now();
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'This greeting will be cut off by the drop.',
      outputFormat: 'raw',
      outputSampleRate: 16_000,
    });
    await client.waitFor('init');
    const closed = await client.closed;
    expect(closed.code).toBe(1006);
    expect(performance.now() - setupAt).toBeGreaterThanOrEqual(290);
    // The greeting was under way and never finished.
    expect(client.messages.map((m) => m.type)).not.toContain('audioStreamEnd');
  });

  test('error:CODE:MS sends that error MS ms after setup, then closes', async () => {
    const client = await connect(`${agent.url}/faulty?fault=error:4500:200`);
    const setupAt = performance.now();
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.waitFor('init');
    const { message, index } = await client.waitFor('error');
    expect(message.code).toBe(4500);
    expect(typeof message.message).toBe('string');
    expect(performance.now() - setupAt).toBeGreaterThanOrEqual(190);
    expect(index).toBe(client.messages.length - 1);
    const closed = await client.closed;
    expect(closed.code).toBe(1011);
  });

  test.each([
    [4429, 1013],
    [1005, 1008],
  ])('error:%i closes with %i', async (code, closeCode) => {
    const client = await connect(`${agent.url}/faulty?fault=error:${code}:0`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    const { message } = await client.waitFor('error');
    expect(message.code).toBe(code);
    expect((await client.closed).code).toBe(closeCode);
  });

  test('garbage interleaves malformed frames with a stream that still decodes', async () => {
    const client = await connect(`${agent.url}/faulty?fault=garbage`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'Garbage test.',
      outputFormat: 'wav',
      outputSampleRate: 16_000,
    });
    await client.waitFor('audioStreamEnd');
    await client.close();
    const kinds = new Set<string>();
    for (const frame of client.raw) {
      const parsed = parseServerMessage(frame);
      if (parsed.kind === 'message' && parsed.message.type === 'audioStream') {
        // Only real audio parses as audioStream; bad base64 must not.
        continue;
      }
      kinds.add(parsed.kind);
    }
    // Invalid JSON / wrong shapes and unknown types were both sent.
    expect(kinds).toContain('invalid');
    expect(kinds).toContain('unknown');
    expect(client.raw.some((frame) => frame.includes('"audioStream"') && frame.includes('not base64'))).toBe(
      true,
    );
    expect(client.raw.length - client.messages.length).toBeGreaterThan(0);
    // The real stream is intact: the greeting decodes and is speech.
    const wellFormed = client.messages.filter(
      (m) =>
        m.type !== 'audioStream' || (typeof m.data === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(m.data)),
    );
    const decoded = await decodeOutput('wav', audioBytes(wellFormed), 16_000);
    expect(decoded.samples.length / 16_000).toBeGreaterThan(0.3);
    expect(levelDb(decoded.samples)).toBeGreaterThan(-35);
  });

  test('faults combine: garbage and a drop', async () => {
    const client = await connect(`${agent.url}/faulty?fault=garbage,drop:400`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'Combined faults test, long enough to be cut.',
      outputFormat: 'raw',
      outputSampleRate: 16_000,
    });
    const closed = await client.closed;
    expect(closed.code).toBe(1006);
    expect(client.raw.length).toBeGreaterThan(client.messages.length);
  });

  test('the fault shows in the connection log line', async ({ expect }) => {
    const client = await connect(`${agent.url}/logged?fault=error:4500:0`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.closed;
    await expect
      .poll(() => logs.find((line) => line.includes('/v1/talk/logged')))
      .toMatch(/faults=error:4500:0/);
  });
});
