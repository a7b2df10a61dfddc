import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelay, createSessionToken } from '@voicewire/server';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { demoUrl, launchChromium, openDemo, pressStart, screenshot, writeMicWav } from './helpers.ts';
import { startVendorStandIn, type VendorStandIn } from './vendorStandIn.ts';

// The provider switch: the settings travel through the URL and the panel, and with each service
// selected the page opens that service's socket (path, query, subprotocols, first message) with
// the widget and the stats unchanged. The services' side is a stand-in on 127.0.0.1 that answers
// their openings (vendorStandIn.ts); whole conversations per provider are the local agent's
// (packages/server) and the browser suites'.

const RELAY_KEY = 'sk-server-side';
const SECRET = 'relay-signing-secret';

let browser: Browser;
let vendor: VendorStandIn;
let site: Server;
let relay: ReturnType<typeof createRelay>;
let relayUrl: string;
let tokenEndpoint: string;
const tokenQueries: string[] = [];

beforeAll(async () => {
  const wav = await writeMicWav('providers-quiet', [{ silenceS: 2 }]);
  vendor = await startVendorStandIn();
  // OpenAI through the relay, as the README tells a developer to run it with their own key:
  // `voicewire-relay --provider openai --api-key … --dev-token-endpoint`, here against the stand-in.
  relay = createRelay({
    provider: 'openai',
    upstream: vendor.origin,
    apiKey: RELAY_KEY,
    secret: SECRET,
    log: false,
  });
  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.invalid');
    const origin = req.headers.origin;
    if (url.pathname !== '/token' || typeof origin !== 'string') return void res.writeHead(404).end();
    tokenQueries.push(url.search);
    const token = createSessionToken({ secret: SECRET, target: url.searchParams.get('target'), origin });
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': origin });
    res.end(JSON.stringify({ token }));
  });
  relay.attach(site);
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const port = (site.address() as AddressInfo).port;
  relayUrl = `ws://127.0.0.1:${port}/v1/realtime`;
  tokenEndpoint = `http://127.0.0.1:${port}/token`;
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await new Promise((resolve) => site?.close(resolve));
  await vendor?.close();
});

const settings = (page: Page) => page.evaluate(() => window.__voicewire!.settings);
const chip = (page: Page) => page.getByTestId('conversation-state');

test('the settings round-trip through the URL, the panel and the saved settings', async () => {
  const { page, context, pageErrors } = await openDemo(browser, {
    provider: 'openai',
    model: 'gpt-realtime-mini',
    voice: 'marin',
    prompt: 'You answer in one sentence.',
  });
  expect(await settings(page)).toMatchObject({
    provider: 'openai',
    server: 'ws://127.0.0.1:8787/v1/realtime',
    model: 'gpt-realtime-mini',
    voice: 'marin',
    prompt: 'You answer in one sentence.',
  });
  await expect.poll(() => page.getByTestId('service').textContent()).toBe('OpenAI Realtime');
  await expect
    .poll(() => page.locator('.summary-text').textContent())
    .toBe('ws://127.0.0.1:8787/v1/realtime?model=gpt-realtime-mini');
  await page.locator('details.settings > summary').click();
  const service = page.getByLabel(/^Service/);
  expect(await service.inputValue()).toBe('openai');
  expect(await page.getByLabel(/^Model/).inputValue()).toBe('gpt-realtime-mini');
  expect(await page.getByLabel(/^Instructions/).inputValue()).toBe('You answer in one sentence.');
  // PlayAI's settings are not OpenAI's: no agent id, no format pickers.
  expect(await page.getByLabel(/^Agent id/).count()).toBe(0);
  expect(await page.getByLabel(/^Output format/).count()).toBe(0);
  await expect
    .poll(() => page.locator('.settings-form').textContent())
    .toContain('L16 · 24 kHz in, L16 · 24 kHz out');
  // The share link reproduces the query (and never a key).
  const link = new URL(
    (await page.getByRole('link', { name: 'Link to these settings' }).getAttribute('href'))!,
    demoUrl({}),
  );
  expect(Object.fromEntries(link.searchParams)).toEqual({
    provider: 'openai',
    model: 'gpt-realtime-mini',
    voice: 'marin',
    prompt: 'You answer in one sentence.',
  });

  // Switch to ElevenLabs in the panel: the server follows to its path, its own fields appear.
  await service.selectOption('elevenlabs');
  expect(await page.getByLabel(/^Server URL/).inputValue()).toBe(
    'ws://127.0.0.1:8787/v1/convai/conversation',
  );
  await page.getByLabel(/^Agent id/).fill('agent_fr');
  await page.getByLabel(/^First message/).fill('Bonjour !');
  await page.getByLabel(/^Language/).fill('fr');
  await screenshot(page, 'desktop-settings-elevenlabs');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).isVisible()).toBe(true);
  // Saving drops the query that overrode the saved settings.
  expect(new URL(page.url()).search).toBe('');
  await page.reload();
  await page.waitForFunction(() => window.__voicewire !== undefined);
  expect(await settings(page)).toMatchObject({
    provider: 'elevenlabs',
    server: 'ws://127.0.0.1:8787/v1/convai/conversation',
    agentId: 'agent_fr',
    greeting: 'Bonjour !',
    language: 'fr',
  });
  await expect
    .poll(() => page.locator('.summary-text').textContent())
    .toBe('ws://127.0.0.1:8787/v1/convai/conversation?agent_id=agent_fr');

  // A link back to PlayAI moves the saved server to PlayAI's path.
  await page.goto(demoUrl({ provider: 'playai' }));
  await page.waitForFunction(() => window.__voicewire !== undefined);
  expect(await settings(page)).toMatchObject({ provider: 'playai', server: 'ws://127.0.0.1:8787/v1/talk' });
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('OpenAI with an API key: the model in the query, the key as a subprotocol, the session set up', async () => {
  const before = vendor.connections.length;
  const { page, context, pageErrors } = await openDemo(browser, {
    provider: 'openai',
    server: `${vendor.origin}/v1/realtime`,
    voice: 'marin',
    prompt: 'Be brief.',
  });
  const opened: string[] = [];
  page.on('websocket', (socket) => opened.push(socket.url()));
  await pressStart(page);
  await expect.poll(() => chip(page).getAttribute('data-status')).toBe('connected');
  expect(opened).toEqual([`${vendor.origin}/v1/realtime?model=gpt-realtime`]);
  const connection = vendor.connections[before]!;
  expect(connection.path).toBe('/v1/realtime');
  expect(Object.fromEntries(connection.query)).toEqual({ model: 'gpt-realtime' });
  expect(connection.protocols).toEqual(['realtime', 'openai-insecure-api-key.local-dev-key']);
  expect(connection.frames[0]).toMatchObject({
    type: 'session.update',
    session: { instructions: 'Be brief.', audio: { output: { voice: 'marin' } } },
  });
  // The stats panel and the widget are the same as for PlayAI.
  await expect.poll(() => page.locator('[data-stat="framesSent"]').textContent()).not.toBe('0');
  await page.getByRole('button', { name: 'End conversation' }).click();
  await expect.poll(() => chip(page).getAttribute('data-status')).toBe('ended');
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('OpenAI through the relay: a token for the model, no key in the page, the key added upstream', async () => {
  const before = vendor.connections.length;
  const { page, context, pageErrors } = await openDemo(browser, {
    provider: 'openai',
    server: relayUrl,
    tokenEndpoint,
    apiKey: '',
  });
  const opened: string[] = [];
  page.on('websocket', (socket) => opened.push(socket.url()));
  await pressStart(page);
  await expect.poll(() => chip(page).getAttribute('data-status')).toBe('connected');
  expect(tokenQueries.at(-1)).toBe('?target=gpt-realtime');
  const url = new URL(opened[0]!);
  expect(`${url.protocol}//${url.host}${url.pathname}`).toBe(relayUrl);
  expect(url.searchParams.get('model')).toBe('gpt-realtime');
  expect(url.searchParams.get('token')).toMatch(/\S{20,}/);
  const upstream = vendor.connections[before]!;
  expect(Object.fromEntries(upstream.query)).toEqual({ model: 'gpt-realtime' });
  expect(upstream.protocols).toEqual(['realtime']);
  expect(upstream.authorization).toBe(`Bearer ${RELAY_KEY}`);
  expect(await page.evaluate(() => JSON.stringify(window.__voicewire!.settings))).not.toContain(RELAY_KEY);
  await page.getByRole('button', { name: 'End conversation' }).click();
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('ElevenLabs with an API key: the page buys a signed URL and opens it, overrides first', async () => {
  const before = vendor.connections.length;
  const { page, context, pageErrors } = await openDemo(browser, {
    provider: 'elevenlabs',
    server: `${vendor.origin}/v1/convai/conversation`,
    agentId: 'agent_fr',
    greeting: 'Bonjour !',
    language: 'fr',
  });
  const opened: string[] = [];
  page.on('websocket', (socket) => opened.push(socket.url()));
  await pressStart(page);
  await expect.poll(() => chip(page).getAttribute('data-status')).toBe('connected');
  expect(vendor.signedUrlRequests.at(-1)).toEqual({ agentId: 'agent_fr', key: 'local-dev-key' });
  expect(opened).toEqual([
    `${vendor.origin}/v1/convai/conversation?agent_id=agent_fr&conversation_signature=stand-in-signature`,
  ]);
  const connection = vendor.connections[before]!;
  expect(connection.protocols).toEqual(['convai']);
  expect(connection.frames[0]).toEqual({
    type: 'conversation_initiation_client_data',
    conversation_config_override: { agent: { first_message: 'Bonjour !', language: 'fr' } },
  });
  await page.getByRole('button', { name: 'End conversation' }).click();
  expect(pageErrors).toEqual([]);
  await context.close();
});
