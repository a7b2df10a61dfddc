#!/usr/bin/env node
// `npm run demo` (after scripts/setup.mjs) runs this: the local agent on 127.0.0.1:8787, the relay
// in front of it on 127.0.0.1:8788 (the production path, with a development token endpoint), and
// the demo page (Vite, apps/web) on 127.0.0.1:5173, together, until Ctrl-C stops them all.
//
//   node scripts/demo.mjs [--port 5173] [--agent-port 8787] [--relay-port 8788] [--no-relay]
//
// The agent and the relay run as child processes (through tsx: they are TypeScript consumed from
// source); Vite runs in this process. If a port is taken a free one is used and the page is told
// where the agent is, so a second demo or a stray server never blocks this one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function log(message) {
  console.log(`[demo] ${message}`);
}

/** `preferred` when nothing listens there, else a free port the system picks. */
function freePort(preferred) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => {
      const any = net.createServer();
      any.listen(0, HOST, () => {
        const { port } = any.address();
        any.close(() => resolve(port));
      });
    });
    probe.listen(preferred, HOST, () => probe.close(() => resolve(preferred)));
  });
}

function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`the local agent exited (code ${child.exitCode}) before it listened`));
        return;
      }
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`the local agent did not listen on ${port} in time`));
        else setTimeout(attempt, 150);
      });
    };
    attempt();
  });
}

const agentPort = await freePort(option('agent-port', 8787));
const webPort = await freePort(option('port', 5173));
const withRelay = !process.argv.includes('--no-relay');
const relayPort = withRelay ? await freePort(option('relay-port', 8788)) : null;
const agentUrl = `ws://${HOST}:${agentPort}/v1/talk`;
// Any non-empty key opens the local agent; the relay holds it so the page never sees it.
const LOCAL_API_KEY = 'local-dev-key';

// 1. The local agent.
const tsx = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
const cli = join(root, 'packages', 'server', 'src', 'cli', 'agent.ts');
// The workspace packages resolve to their sources (docs/packaging.md), as in the tests.
const SOURCE_CONDITION = '--conditions=@voicewire/source';
if (!existsSync(tsx) || !existsSync(cli)) {
  log('dependencies are missing: run `npm run demo` (it installs them first).');
  process.exit(1);
}
const agent = spawn(tsx, [SOURCE_CONDITION, cli, '--port', String(agentPort), '--host', HOST], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
const children = [agent];

let vite = null;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  log('stopping the page, the relay and the agent…');
  try {
    await vite?.close();
  } catch {
    // Already closed: nothing left to release.
  }
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // A child that ignores SIGTERM must not keep the terminal.
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }),
  );
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
agent.once('exit', (code) => {
  if (stopping) return;
  log(`the local agent stopped (exit code ${code}).`);
  void stop(code || 1);
});

try {
  await waitForPort(agentPort, agent, 30_000);
} catch (error) {
  log(error.message);
  await stop(1);
}

// 2. The relay, as a site would run it: it holds the key and checks short-lived tokens. It is an
// extra: if it cannot start, the demo goes on without it.
let relayUrl = null;
const relayCli = join(root, 'packages', 'server', 'src', 'cli', 'relay.ts');
if (relayPort !== null && existsSync(relayCli)) {
  const relay = spawn(
    tsx,
    [
      SOURCE_CONDITION,
      relayCli,
      '--port',
      String(relayPort),
      '--host',
      HOST,
      '--upstream',
      agentUrl,
      '--dev-token-endpoint',
      // Ctrl-C stops the demo at once: no other instance to drain to.
      '--drain-ms',
      '0',
      '--quiet',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      // Through the environment, so neither shows up in the process list.
      env: {
        ...process.env,
        VOICEWIRE_API_KEY: LOCAL_API_KEY,
        VOICEWIRE_RELAY_SECRET: randomBytes(32).toString('hex'),
      },
    },
  );
  children.push(relay);
  try {
    await waitForPort(relayPort, relay, 30_000);
    relayUrl = `ws://${HOST}:${relayPort}/v1/talk`;
  } catch (error) {
    log(`the relay did not start (${error.message}); the demo goes on without it.`);
  }
}

// 3. The page. The page finds the agent on its own host at 8787; tell it otherwise only when
// the agent had to move.
if (agentPort !== 8787) process.env.VITE_VOICEWIRE_SERVER = agentUrl;
const { createServer } = await import('vite');
vite = await createServer({
  configFile: join(root, 'apps', 'web', 'vite.config.ts'),
  server: { host: HOST, port: webPort, strictPort: false, open: false },
  logLevel: 'warn',
  clearScreen: false,
});
await vite.listen();
const pageUrl = vite.resolvedUrls?.local?.[0] ?? `http://${HOST}:${webPort}/`;

// Unencoded on purpose: `:` and `/` are allowed in a query, and the link stays readable.
const relayPageUrl =
  relayUrl && `${pageUrl}?server=${relayUrl}&tokenEndpoint=http://${HOST}:${relayPort}/token&apiKey=`;
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const line = '─'.repeat(72);
console.log(`
${line}
  voicewire demo is running

  Open the demo:  ${bold(pageUrl)}

  Local agent:    ${agentUrl}/<agentId>${
    relayUrl
      ? `
  Relay:          ${relayUrl}/<agentId>  (holds the key; tokens from
                  http://${HOST}:${relayPort}/token?agentId=<agentId>)
  Via the relay:  ${relayPageUrl}`
      : ''
  }

  Press Start, allow the microphone and talk; speak over the agent to
  interrupt it. Settings and live stats are on the page. Ctrl-C stops it all.
${line}
`);
