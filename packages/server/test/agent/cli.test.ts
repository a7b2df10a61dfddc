import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { connect } from './client.ts';
import { openWire } from './wireClient.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
// The CLI from its TypeScript source, as `pnpm agent` runs it; the built bin (dist/) is run from the
// installed tarball by `pnpm release:check` (scripts/release/check.ts).
const cli = [
  '--import',
  'tsx',
  '--conditions=@voicewire/source',
  fileURLToPath(new URL('../../src/cli/agent.ts', import.meta.url)),
];
const tsx = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));

/** Start the command and wait for the URL it prints. */
function start(
  command: string,
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no URL printed within 60 s:\n${output}`));
    }, 60_000);
    const check = () => {
      const match = /listening on (ws:\/\/\S+)\/<agentId>/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing a URL:\n${output}`));
    });
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

// A fresh Node process compiles the TypeScript sources on start: slow on a busy machine.
describe('voicewire-agent', { timeout: 90_000 }, () => {
  test('voicewire-agent --port 0 serves the protocol and exits cleanly on SIGINT', async () => {
    const { child, url, output } = await start(process.execPath, [
      ...cli,
      '--port',
      '0',
      '--api-key',
      'cli-key',
      '--greeting',
      '',
    ]);
    try {
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/talk$/);
      const refused = await connect(`${url}/demo`);
      refused.send({ type: 'setup', apiKey: 'other-key' });
      expect((await refused.waitFor('error')).message.code).toBe(1003);

      const client = await connect(`${url}/demo`);
      client.send({ type: 'setup', apiKey: 'cli-key' });
      await client.waitFor('init');
      const exited = exitCode(child);
      child.kill('SIGINT');
      expect((await client.closed).code).toBe(1001);
      expect(await exited).toBe(0);
      // The connection lines went to stdout; the key did not.
      expect(output()).toMatch(/agent=demo/);
      expect(output()).not.toMatch(/cli-key|other-key/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('the root script form (tsx --conditions=@voicewire/source src/cli/agent.ts -- --port 0) accepts the leading --', async () => {
    const { child, url } = await start(tsx, [
      '--conditions=@voicewire/source',
      'packages/server/src/cli/agent.ts',
      '--',
      '--port',
      '0',
      '--quiet',
    ]);
    try {
      const health = await fetch(url.replace('ws://', 'http://').replace('/v1/talk', '/health'));
      expect(await health.json()).toMatchObject({ ok: true });
      // tsx's own CLI relays SIGTERM to the script (a terminal's Ctrl+C reaches both directly).
      const exited = exitCode(child);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('--help prints the options; a bad flag exits with 2', async () => {
    const help = spawn(process.execPath, [...cli, '--help'], { cwd: root });
    const bad = spawn(process.execPath, [...cli, '--port', 'eighty'], { cwd: root });
    let text = '';
    help.stdout.on('data', (chunk) => {
      text += chunk;
    });
    expect(await exitCode(help)).toBe(0);
    for (const flag of [
      '--port',
      '--host',
      '--api-key',
      '--max-connections',
      '--silence-ms',
      '--greeting',
      '--allow-anonymous',
      '--hangup-after-turns',
      '--openai-greeting',
      '--elevenlabs-input-format',
      '--elevenlabs-output-format',
      '--elevenlabs-ping-ms',
      '--gemini-greeting',
      '--gemini-connection-lifetime-ms',
      '--deepgram-client-timeout-ms',
      '/v1/realtime?model=',
      '/v1/convai/conversation?agent_id=',
      'GenerativeService.BidiGenerateContent?key=',
      '/v1/agent/converse',
      '/v0/evi/chat?api_key=',
    ]) {
      expect(text).toContain(flag);
    }
    expect(await exitCode(bad)).toBe(2);
    const badFormat = spawn(process.execPath, [...cli, '--elevenlabs-output-format', 'mp3_44100'], {
      cwd: root,
    });
    expect(await exitCode(badFormat)).toBe(2);
  });

  test('one port, three protocols: --api-key for OpenAI (Bearer) and ElevenLabs (xi-api-key), --openai-greeting auto, --elevenlabs-output-format', async () => {
    const { child, output } = await start(process.execPath, [
      ...cli,
      '--port',
      '0',
      '--api-key',
      'cli-key',
      '--greeting',
      'Hi.',
      '--openai-greeting',
      'auto',
      '--elevenlabs-output-format',
      'pcm_24000',
    ]);
    try {
      const printed = /OpenAI Realtime: +(ws:\/\/[^/\s]+)\/v1\/realtime/;
      await expect.poll(() => printed.test(output())).toBe(true);
      const origin = printed.exec(output())![1]!;
      await expect
        .poll(output)
        .toContain(`ElevenLabs Agents: ${origin}/v1/convai/conversation?agent_id=<agentId>`);
      const openai = await connect(`${origin}/v1/realtime?model=gpt-realtime`, {
        headers: { authorization: 'Bearer cli-key' },
      });
      await openai.waitFor('session.created');
      openai.send({ type: 'session.update', session: { type: 'realtime' } });
      const greeting = await openai.waitFor('response.output_audio_transcript.done');
      expect(greeting.message.transcript).toBe('Hi.');
      await openai.close();
      const elevenlabs = await connect(`${origin}/v1/convai/conversation?agent_id=cli-agent`, {
        protocols: ['convai'],
        headers: { 'xi-api-key': 'cli-key' },
      });
      elevenlabs.send({ type: 'conversation_initiation_client_data' });
      const metadata = await elevenlabs.waitFor('conversation_initiation_metadata');
      expect(metadata.message.conversation_initiation_metadata_event).toMatchObject({
        agent_output_audio_format: 'pcm_24000',
        user_input_audio_format: 'pcm_16000',
      });
      await elevenlabs.close();
      expect(output()).not.toMatch(/cli-key/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('Gemini, Deepgram and Hume on the same port: --gemini-connection-lifetime-ms (goAway, then 1011), --deepgram-client-timeout-ms, --api-key for all three', async () => {
    const { child, output } = await start(process.execPath, [
      ...cli,
      '--port',
      '0',
      '--api-key',
      'cli-key',
      '--greeting',
      '',
      '--gemini-connection-lifetime-ms',
      '1500',
      '--deepgram-client-timeout-ms',
      '600',
    ]);
    try {
      const printed = /Gemini Live: +(ws:\/\/[^/\s]+)\/ws\/google/;
      await expect.poll(() => printed.test(output())).toBe(true);
      const origin = printed.exec(output())![1]!;
      await expect.poll(output).toContain(`Deepgram:          ${origin}/v1/agent/converse`);
      await expect.poll(output).toContain(`Hume EVI:          ${origin}/v0/evi/chat?api_key=<key>`);

      const gemini = await openWire(
        `${origin}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=cli-key`,
        { jsonInBinary: true },
      );
      gemini.send({ setup: { model: 'models/gemini-live-2.5-flash-preview' } });
      await gemini.waitFor((m) => 'setupComplete' in m);
      const goAway = await gemini.waitFor((m) => 'goAway' in m);
      expect(goAway.goAway).toEqual({ timeLeft: '0.75s' });
      expect((await gemini.closed).code).toBe(1011);

      const deepgram = await openWire(`${origin}/v1/agent/converse`, { protocols: ['token', 'cli-key'] });
      await deepgram.waitFor((m) => m.type === 'Welcome');
      expect((await deepgram.closed).code).toBe(1011);
      expect(deepgram.messages.at(-1)).toMatchObject({ type: 'Error', code: 'CLIENT_MESSAGE_TIMEOUT' });

      const refused = await openWire(`${origin}/v0/evi/chat?api_key=wrong`);
      expect((await refused.closed).code).toBe(1008);
      const hume = await openWire(`${origin}/v0/evi/chat?api_key=cli-key`);
      await hume.waitFor((m) => m.type === 'chat_metadata');
      await hume.close();
      expect(output()).not.toMatch(/cli-key/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('--allow-anonymous --hangup-after-turns 1: a setup without a key is served, and the first reply ends the call', async () => {
    const { child, url } = await start(process.execPath, [
      ...cli,
      '--port',
      '0',
      '--quiet',
      '--greeting',
      '',
      '--allow-anonymous',
      '--hangup-after-turns',
      '1',
    ]);
    try {
      const client = await connect(`${url}/public-agent`);
      client.send({ type: 'setup', outputFormat: 'raw', outputSampleRate: 16000 });
      await client.waitFor('init');
      client.send({ type: 'customInput', data: 'bye' });
      expect((await client.waitFor('hangup')).message).toEqual({ type: 'hangup', endedBy: 'agent' });
      expect((await client.closed).code).toBe(1000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
