import { startLocalAgent } from '@voicewire/server';
import { expect, test } from 'vitest';
import { connect } from './client.ts';

test('one log line per connection, with the setup and how it ended, and never a key', async () => {
  const lines: string[] = [];
  const agent = await startLocalAgent({
    port: 0,
    log: (line) => lines.push(line),
    apiKeys: ['sk-secret-accepted-1111'],
  });
  try {
    // Accepted, then closed by the client.
    const ok = await connect(`${agent.url}/logged`);
    ok.send({
      type: 'setup',
      apiKey: 'sk-secret-accepted-1111',
      customGreeting: '',
      outputFormat: 'wav',
      outputSampleRate: 16_000,
    });
    await ok.waitFor('init');
    await ok.close();
    // Refused key.
    const refused = await connect(`${agent.url}/logged`);
    refused.send({ type: 'setup', apiKey: 'sk-secret-refused-2222' });
    await refused.closed;
    // A key inside malformed JSON, and a key in the URL query.
    const malformed = await connect(
      `${agent.url}/logged?apiKey=sk-secret-query-3333&token=sk-secret-token-4444`,
    );
    malformed.send('{"type":"setup","apiKey":"sk-secret-malformed-5555",');
    await malformed.closed;
    // A key in a message after setup.
    const chatty = await connect(`${agent.url}/logged`);
    chatty.send({ type: 'setup', apiKey: 'sk-secret-accepted-1111', customGreeting: '' });
    await chatty.waitFor('init');
    chatty.send({ type: 'setup', apiKey: 'sk-secret-again-6666' });
    await chatty.waitFor('error');
    await chatty.close();

    await expect.poll(() => lines.length).toBe(4);
    const all = lines.join('\n');
    expect(all).not.toMatch(/sk-secret/);
    expect(lines[0]).toMatch(/agent=logged conversation=conv_\S+ out=wav@16000 in=media-container/);
    expect(lines[0]).toMatch(/closed by client 1000/);
    expect(lines[1]).toMatch(/setup refused 1003/);
    expect(lines[2]).toMatch(/setup refused 4400/);
    for (const line of lines) expect(line.split('\n')).toHaveLength(1);
  } finally {
    await agent.close();
  }
});

test('log: false writes nothing', async () => {
  const agent = await startLocalAgent({ port: 0, log: false });
  const original = console.log;
  const printed: unknown[] = [];
  console.log = (...args: unknown[]) => printed.push(args);
  try {
    const client = await connect(`${agent.url}/quiet`);
    client.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    await client.waitFor('init');
    await client.close();
    await agent.close();
    expect(printed).toEqual([]);
  } finally {
    console.log = original;
  }
});
