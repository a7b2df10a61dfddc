import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay, createSessionToken, type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openDemo, pressStart, waitForAudibleOutput, writeMicWav } from './helpers.ts';

// The production path: the page holds a short-lived token, the relay holds the key.
const API_KEY = 'server-side-secret-key';
const SECRET = 'relay-signing-secret';

let agent: LocalAgent;
let relayServer: Server;
let relayUrl: string;
let tokenEndpoint: string;
let tokenRequests = 0;
let relay: ReturnType<typeof createRelay>;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('relay-quiet', [{ silenceS: 2 }]);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', apiKeys: [API_KEY], log: false });
  relay = createRelay({ upstream: agent.url, apiKey: API_KEY, secret: SECRET, log: false });
  // The relay mounted on a site's own server, beside the endpoint that mints tokens for its pages.
  relayServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.invalid');
    const origin = req.headers.origin;
    if (url.pathname !== '/token' || typeof origin !== 'string') return void res.writeHead(404).end();
    tokenRequests += 1;
    const token = createSessionToken({
      secret: SECRET,
      agentId: url.searchParams.get('agentId') ?? '',
      ttlSeconds: 60,
      origin,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': origin });
    res.end(JSON.stringify({ token }));
  });
  relay.attach(relayServer);
  await new Promise<void>((resolve) => relayServer.listen(0, '127.0.0.1', resolve));
  const port = (relayServer.address() as AddressInfo).port;
  relayUrl = `ws://127.0.0.1:${port}/v1/talk`;
  tokenEndpoint = `http://127.0.0.1:${port}/token`;
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await new Promise((resolve) => relayServer?.close(resolve));
  await agent?.close();
});

test('the page talks through the relay with a token and no API key', async () => {
  const token = createSessionToken({ secret: SECRET, agentId: 'demo-agent', ttlSeconds: 60 });
  const { page, context, pageErrors, messages } = await openDemo(browser, {
    server: relayUrl,
    agentId: 'demo-agent',
    apiKey: '',
    token,
    greeting: 'Hello through the relay. The key stays on the server.',
  });
  // The settings panel presents this as the production path.
  await page.locator('details.settings > summary').click();
  await expect.poll(() => page.getByRole('radio', { name: /relay token/i }).isChecked()).toBe(true);
  await pressStart(page);
  await waitForAudibleOutput(page);
  await expect.poll(() => page.getByTestId('notice').count()).toBe(0);
  expect(messages.find((m) => m.includes('"type":"setup"'))).not.toContain('apiKey');
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('the page fetches a fresh token from the site for each connection', async () => {
  const before = tokenRequests;
  const { page, context, pageErrors, messages } = await openDemo(browser, {
    server: relayUrl,
    agentId: 'demo-agent',
    apiKey: '',
    tokenEndpoint,
    greeting: 'Hello with a fresh token, minted just for this connection.',
  });
  await pressStart(page);
  await waitForAudibleOutput(page);
  expect(tokenRequests).toBe(before + 1);
  // No key ever left the page: the relay put the real one into the setup.
  expect(messages.find((m) => m.includes('"type":"setup"'))).not.toContain('apiKey');
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('a token for another agent is refused with a message about the token', async () => {
  const token = createSessionToken({ secret: SECRET, agentId: 'other-agent', ttlSeconds: 60 });
  const { page, context } = await openDemo(browser, {
    server: relayUrl,
    agentId: 'demo-agent',
    apiKey: '',
    token,
  });
  await pressStart(page);
  const notice = page.getByTestId('notice');
  await expect.poll(() => notice.getAttribute('data-error-kind'), { timeout: 30_000 }).toBe('unauthorized');
  await expect.poll(() => notice.textContent()).toContain('The agent refused this relay token.');
  await context.close();
});
