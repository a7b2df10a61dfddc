import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalAgent } from '../../src/agent/index.ts';
import { verifySessionToken } from '../../src/relay/index.ts';
import { connectClient } from './helpers.ts';
import { connectBrowser, startVendor } from './vendors.ts';

// The CLI from its TypeScript source, as `pnpm relay` runs it; the built bin (dist/) is run from the
// installed tarball by `pnpm release:check` (scripts/release/check.ts).
const cli = [
  '--import',
  'tsx',
  '--conditions=@voicewire/source',
  fileURLToPath(new URL('../../src/cli/relay.ts', import.meta.url)),
];
const apiKey = 'cli-real-key-5678';
const secret = 'cli-secret-1234';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts `voicewire-relay` and resolves with its base HTTP address once it says it listens. */
function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [...cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay CLI did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay CLI exited with ${code}:\n${output}`));
    });
  });
}

describe('voicewire-relay command', { timeout: 40_000 }, () => {
  it('relays with the dev token endpoint, and never prints the key or a token', async () => {
    const agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: false });
    cleanups.push(() => agent.close());
    const { port, output } = await startCli([
      '--port',
      '0',
      '--upstream',
      agent.url,
      '--api-key',
      apiKey,
      '--secret',
      secret,
      '--dev-token-endpoint',
    ]);
    const response = await fetch(`http://127.0.0.1:${port}/token?agentId=cli-agent`, {
      headers: { origin: 'http://localhost:5173' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const { token } = (await response.json()) as { token: string };
    // Bound to the page that asked for it.
    expect(
      verifySessionToken(token, { secret, agentId: 'cli-agent', origin: 'http://localhost:5173' }).ok,
    ).toBe(true);
    expect(
      verifySessionToken(token, { secret, agentId: 'cli-agent', origin: 'https://elsewhere.example' }).ok,
    ).toBe(false);

    const client = connectClient(`ws://127.0.0.1:${port}/v1/talk/cli-agent?token=${token}`, {
      origin: 'http://localhost:5173',
    });
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup', outputFormat: 'mulaw', outputSampleRate: 8000 }));
    const init = await client.waitFor((m) => m.type === 'init');
    expect(init.conversationId).toEqual(expect.any(String));
    client.socket.close(1000);
    await client.closed;

    const missing = await fetch(`http://127.0.0.1:${port}/token`);
    expect(missing.status).toBe(400);
    // The session's log lines reach the pipe in their own time: wait for the last of them.
    await expect.poll(output, { timeout: 20_000 }).toContain('session-open');
    await expect.poll(output, { timeout: 20_000 }).toContain('session-close');
    expect(output()).not.toContain(apiKey);
    expect(output()).not.toContain(secret);
    expect(output()).not.toContain(token);
  });

  it('serves no tokens unless --dev-token-endpoint is given; secrets may come from the environment', async () => {
    const child = spawn(process.execPath, [...cli, '--port', '0', '--upstream', 'ws://127.0.0.1:9/v1/talk'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VOICEWIRE_API_KEY: apiKey, VOICEWIRE_RELAY_SECRET: secret },
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no listening line')), 20_000);
      child.stdout?.on('data', () => {
        if (/listening on/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    const response = await fetch(`http://127.0.0.1:${port}/token?agentId=a`);
    expect(response.status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('refuses to start without the key, the secret or the upstream', async () => {
    const env = { ...process.env };
    delete env.VOICEWIRE_API_KEY;
    delete env.VOICEWIRE_RELAY_SECRET;
    for (const args of [
      ['--upstream', 'ws://127.0.0.1:1/v1/talk', '--secret', 's'],
      ['--upstream', 'ws://127.0.0.1:1/v1/talk', '--api-key', 'k'],
      ['--api-key', 'k', '--secret', 's'],
      ['--upstream', 'http://not-ws', '--api-key', 'k', '--secret', 's'],
    ]) {
      const child = spawn(process.execPath, [...cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr).toMatch(/Usage: voicewire-relay/);
    }
  });
});

describe('voicewire-relay --provider', { timeout: 40_000 }, () => {
  it('relays to OpenAI with its key as Authorization: Bearer; dev tokens for a model, or for any', async () => {
    const vendor = await startVendor();
    cleanups.push(() => vendor.close());
    const { port, output } = await startCli([
      '--provider',
      'openai',
      '--port',
      '0',
      '--upstream',
      vendor.origin,
      '--api-key',
      apiKey,
      '--secret',
      secret,
      '--dev-token-endpoint',
    ]);
    expect(output()).toContain(
      `voicewire relay (openai) listening on ws://127.0.0.1:${port}/v1/realtime -> ${vendor.origin}/v1/realtime`,
    );
    expect(output()).toContain(`/token?target=<target>`);
    const bound = (await (await fetch(`http://127.0.0.1:${port}/token?target=gpt-realtime`)).json()) as {
      token: string;
    };
    expect(verifySessionToken(bound.token, { secret, target: 'gpt-realtime' }).ok).toBe(true);
    expect(verifySessionToken(bound.token, { secret, target: 'other' }).ok).toBe(false);
    const any = (await (await fetch(`http://127.0.0.1:${port}/token`)).json()) as { token: string };
    expect(verifySessionToken(any.token, { secret, target: 'other' }).ok).toBe(true);

    const browser = connectBrowser(
      `ws://127.0.0.1:${port}/v1/realtime?model=gpt-realtime&token=${bound.token}`,
      { protocols: ['realtime'] },
    );
    await browser.opened;
    expect(browser.socket.protocol).toBe('realtime');
    const connection = await vendor.nextConnection();
    expect(connection.url.search).toBe('?model=gpt-realtime');
    expect(connection.headers.authorization).toBe(`Bearer ${apiKey}`);
    browser.socket.close(1000);
    await connection.closed;
    expect(output()).not.toContain(apiKey);
  });

  it('lists the providers in --help and refuses a provider or option it does not know', async () => {
    const run = (args: string[]) => {
      const child = spawn(process.execPath, [...cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout?.on('data', (chunk) => {
        text += chunk;
      });
      child.stderr?.on('data', (chunk) => {
        text += chunk;
      });
      return new Promise<{ code: number | null; text: string }>((resolve) =>
        child.once('exit', (code) => resolve({ code, text })),
      );
    };
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.text).toMatch(/--provider <name>.*playai \(default\), openai, elevenlabs, gemini, deepgram/s);
    expect(help.text).toMatch(/--signed-url/);
    for (const [args, message] of [
      [
        ['--provider', 'nope'],
        /--provider must be one of playai, openai, elevenlabs, gemini, deepgram, hume/,
      ],
      [
        ['--provider', 'openai', '--signed-url'],
        /--signed-url and --http-base are for --provider elevenlabs/,
      ],
      [
        ['--provider', 'hume', '--upstream', 'https://api.hume.ai'],
        /--upstream must be a ws:\/\/ or wss:\/\/ URL/,
      ],
    ] as const) {
      const result = await run([...args, '--api-key', 'k', '--secret', 's']);
      expect(result.code).toBe(2);
      expect(result.text).toMatch(message);
    }
  });
});
