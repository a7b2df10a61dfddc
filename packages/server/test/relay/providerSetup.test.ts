import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRelay, createSessionToken } from '../../src/relay/index.ts';
import { PROVIDER_SPECS, resolveEndpoint } from '../../src/relay/providers.ts';
import { startRelay } from './helpers.ts';
import { connectBrowser, requestText, startVendor } from './vendors.ts';

const apiKey = 'xi-real-key-signed-0123';
const secret = 'relay-secret-setup';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const token = (target: string | null) => createSessionToken({ secret, target, ttlSeconds: 60 });

/** An ElevenLabs stand-in that mints signed URLs for its own socket, refusing a wrong key. */
async function elevenlabsVendor(status = 200) {
  const vendor = await startVendor((req, res, origin) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/v1/convai/conversation/get-signed-url' || req.headers['xi-api-key'] !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"invalid api key"}');
      return;
    }
    if (status !== 200) {
      res.writeHead(status).end();
      return;
    }
    const agentId = url.searchParams.get('agent_id') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        signed_url: `${origin}/v1/convai/conversation?agent_id=${agentId}&conversation_signature=sig-for-${agentId}`,
      }),
    );
  });
  cleanups.push(() => vendor.close());
  return vendor;
}

describe('ElevenLabs through a signed URL the relay fetches', () => {
  it('asks for the URL with xi-api-key, then connects to it with no key on the socket', async () => {
    const vendor = await elevenlabsVendor();
    const relay = await startRelay({
      provider: 'elevenlabs',
      upstream: vendor.origin,
      apiKey,
      secret,
      signedUrl: true,
    });
    cleanups.push(() => relay.close());
    const origin = relay.base.replace(/\/v1\/talk$/, '');
    const browser = connectBrowser(
      `${origin}/v1/convai/conversation?agent_id=agent_7&source=js_sdk&version=1.25.0&conversation_signature=browser-sig&token=${token('agent_7')}`,
      { protocols: ['convai', 'bearer.browser-bearer'] },
    );
    await browser.opened;
    expect(browser.socket.protocol).toBe('convai');
    const first = JSON.stringify({ type: 'conversation_initiation_client_data' });
    browser.socket.send(first);
    const connection = await vendor.nextConnection();

    expect(vendor.httpRequests).toHaveLength(1);
    const request = vendor.httpRequests[0];
    expect(request?.url.pathname).toBe('/v1/convai/conversation/get-signed-url');
    expect([...(request?.url.searchParams ?? [])]).toEqual([['agent_id', 'agent_7']]);
    expect(request?.headers['xi-api-key']).toBe(apiKey);

    expect(connection.url.pathname).toBe('/v1/convai/conversation');
    expect([...connection.url.searchParams]).toEqual([
      ['agent_id', 'agent_7'],
      ['conversation_signature', 'sig-for-agent_7'],
      ['source', 'js_sdk'],
      ['version', '1.25.0'],
    ]);
    expect(connection.headers['xi-api-key']).toBeUndefined();
    expect(connection.offered).toEqual(['convai']);
    expect(requestText(connection)).not.toMatch(/browser-|xi-real-key/);
    // Messages sent while the URL was being fetched arrive, in order.
    await expect.poll(() => connection.frames.map((f) => f.data.toString())).toEqual([first]);
    browser.socket.close();
    await connection.closed;
  });

  it('takes the REST base from httpBase when given', async () => {
    const vendor = await elevenlabsVendor();
    const relay = await startRelay({
      provider: 'elevenlabs',
      // Never contacted: the signed URL says where to connect.
      upstream: 'wss://api.elevenlabs.invalid',
      httpBase: vendor.origin.replace('ws:', 'http:'),
      apiKey,
      secret,
      signedUrl: true,
    });
    cleanups.push(() => relay.close());
    const browser = connectBrowser(
      `${relay.base.replace(/\/v1\/talk$/, '')}/v1/convai/conversation?agent_id=a1&token=${token(null)}`,
    );
    await browser.opened;
    const connection = await vendor.nextConnection();
    expect(connection.url.searchParams.get('conversation_signature')).toBe('sig-for-a1');
    browser.socket.close();
  });

  for (const [what, status, logged] of [
    ['refused (HTTP 401)', 401, /signed URL request refused with HTTP 401/],
    ['failing (HTTP 500)', 500, /HTTP 500/],
  ] as const) {
    it(`tells the browser the service is unreachable (1011) when the signed URL request is ${what}`, async () => {
      const vendor = await elevenlabsVendor(status);
      const relay = await startRelay({
        provider: 'elevenlabs',
        upstream: vendor.origin,
        apiKey: status === 401 ? 'a-wrong-key' : apiKey,
        secret,
        signedUrl: true,
      });
      cleanups.push(() => relay.close());
      const browser = connectBrowser(
        `${relay.base.replace(/\/v1\/talk$/, '')}/v1/convai/conversation?agent_id=a1&token=${token(null)}`,
      );
      expect(await browser.closed).toEqual({ code: 1011, reason: 'agent service unreachable' });
      expect(browser.frames).toEqual([]);
      expect(vendor.connections).toHaveLength(0);
      const entry = relay.logs.find((e) => e.event === 'upstream-error');
      expect(entry?.message).toMatch(logged);
      expect(JSON.stringify(relay.logs)).not.toMatch(/a-wrong-key|xi-real-key/);
      expect(relay.relay.metrics()).toContain('voicewire_relay_upstream_failures_total 1');
    });
  }

  it('gives up on a signed URL request that never answers (upstreamTimeoutMs), or whose browser left', async () => {
    const hanging: (() => void)[] = [];
    const vendor = await startVendor((_req, res) => hanging.push(() => res.destroy()));
    cleanups.push(() => {
      for (const end of hanging) end();
      return vendor.close();
    });
    const relay = await startRelay({
      provider: 'elevenlabs',
      upstream: vendor.origin,
      apiKey,
      secret,
      signedUrl: true,
      upstreamTimeoutMs: 300,
    });
    cleanups.push(() => relay.close());
    const url = `${relay.base.replace(/\/v1\/talk$/, '')}/v1/convai/conversation?agent_id=a1&token=${token(null)}`;
    const waiting = connectBrowser(url);
    expect(await waiting.closed).toEqual({ code: 1011, reason: 'agent service unreachable' });
    expect(relay.logs.find((e) => e.event === 'upstream-error')?.message).toBe('upstream request timed out');
    const leaving = connectBrowser(url);
    await leaving.opened;
    await expect.poll(() => vendor.httpRequests.length).toBe(2);
    leaving.socket.close(1000);
    await leaving.closed;
    await expect.poll(() => relay.relay.sessionCount).toBe(0);
    // Nothing was opened, and nothing more was logged as a failure.
    expect(vendor.connections).toHaveLength(0);
    expect(relay.logs.filter((e) => e.event === 'upstream-error')).toHaveLength(1);
  });

  it('survives a signed URL the WebSocket client will not take (a fragment): 1011, and the relay goes on', async () => {
    const vendor = await startVendor((_req, res, origin) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ signed_url: `${origin}/v1/convai/conversation?agent_id=a1#fragment` })),
    );
    cleanups.push(() => vendor.close());
    const relay = await startRelay({
      provider: 'elevenlabs',
      upstream: vendor.origin,
      apiKey,
      secret,
      signedUrl: true,
    });
    cleanups.push(() => relay.close());
    const url = `${relay.base.replace(/\/v1\/talk$/, '')}/v1/convai/conversation?agent_id=a1&token=${token(null)}`;
    for (let i = 0; i < 2; i++) {
      const browser = connectBrowser(url);
      expect(await browser.closed).toEqual({ code: 1011, reason: 'agent service unreachable' });
    }
    expect(relay.logs.filter((e) => e.event === 'upstream-error').map((e) => e.message)).toEqual([
      expect.stringMatching(/^upstream URL refused: .*fragment/),
      expect.stringMatching(/^upstream URL refused/),
    ]);
    expect(vendor.connections).toHaveLength(0);
  });

  it('refuses a session with no agent_id (4400): there is no signed URL to ask for', async () => {
    const vendor = await elevenlabsVendor();
    const relay = await startRelay({
      provider: 'elevenlabs',
      upstream: vendor.origin,
      apiKey,
      secret,
      signedUrl: true,
    });
    cleanups.push(() => relay.close());
    const browser = connectBrowser(
      `${relay.base.replace(/\/v1\/talk$/, '')}/v1/convai/conversation?token=${token(null)}`,
    );
    expect(await browser.closed).toEqual({ code: 4400, reason: 'Bad request: agent_id is required' });
    expect(vendor.httpRequests).toHaveLength(0);
  });
});

describe('relay configuration per provider', () => {
  it('refuses options that cannot work, with the reason', () => {
    const base = { apiKey, secret, log: false as const };
    expect(() => createRelay({ ...base, provider: 'nope' as 'openai' })).toThrow(/unknown provider "nope"/);
    expect(() => createRelay({ ...base })).toThrow(/`upstream` is required for the playai provider/);
    expect(() => createRelay({ ...base, provider: 'openai', signedUrl: true })).toThrow(/elevenlabs/);
    expect(() => createRelay({ ...base, provider: 'hume', upstream: 'https://api.hume.ai' })).toThrow(
      /ws:\/\//,
    );
    expect(() => createRelay({ ...base, provider: 'elevenlabs', httpBase: 'ftp://x' })).toThrow(/httpBase/);
  });

  it('defaults to the vendor’s endpoint; an origin gets the vendor’s path; a path is kept', () => {
    expect(resolveEndpoint(PROVIDER_SPECS.openai, undefined)).toBe('wss://api.openai.com/v1/realtime');
    expect(resolveEndpoint(PROVIDER_SPECS.hume, undefined)).toBe('wss://api.hume.ai/v0/evi/chat');
    expect(resolveEndpoint(PROVIDER_SPECS.deepgram, undefined)).toBe(
      'wss://agent.deepgram.com/v1/agent/converse',
    );
    expect(resolveEndpoint(PROVIDER_SPECS.elevenlabs, undefined)).toBe(
      'wss://api.elevenlabs.io/v1/convai/conversation',
    );
    expect(resolveEndpoint(PROVIDER_SPECS.gemini, 'ws://127.0.0.1:8787/')).toBe(
      'ws://127.0.0.1:8787/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    );
    expect(resolveEndpoint(PROVIDER_SPECS.openai, 'wss://proxy.example/custom/rt/')).toBe(
      'wss://proxy.example/custom/rt',
    );
    expect(resolveEndpoint(PROVIDER_SPECS.playai, 'ws://127.0.0.1:8787/v1/talk/')).toBe(
      'ws://127.0.0.1:8787/v1/talk',
    );
  });

  it('several providers share one server: each relay takes its path, a foreign path gets 404', async () => {
    const vendor = await startVendor();
    cleanups.push(() => vendor.close());
    const relays = (['openai', 'hume'] as const).map((provider) =>
      createRelay({ provider, upstream: vendor.origin, apiKey, secret, log: false, metrics: true }),
    );
    const server = createServer((req, res) => {
      if (!relays[0]?.handleRequest(req, res)) res.writeHead(404).end();
    });
    for (const relay of relays) relay.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      for (const relay of relays) await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const origin = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const openai = connectBrowser(`${origin}/v1/realtime?model=m&token=${token('m')}`);
    await openai.opened;
    expect((await vendor.nextConnection()).url.pathname).toBe('/v1/realtime');
    const hume = connectBrowser(`${origin}/v0/evi/chat?token=${token(null)}`);
    await hume.opened;
    expect((await vendor.nextConnection()).url.pathname).toBe('/v0/evi/chat');
    const foreign = new WebSocket(`${origin}/v1/talk/agent`);
    foreign.on('error', () => {});
    const status = await new Promise<number>((resolve) =>
      foreign.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
    expect(relays[0]?.metrics()).toContain('voicewire_relay_info{provider="openai"} 1');
    expect(relays[1]?.metrics()).toContain('voicewire_relay_info{provider="hume"} 1');
    openai.socket.close();
    hume.socket.close();
  });

  it('never logs a key that travels in the URL (Gemini, Hume), even when the vendor is down', async () => {
    const dead = createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    for (const provider of ['gemini', 'hume'] as const) {
      const relay = await startRelay({ provider, upstream: `ws://127.0.0.1:${port}`, apiKey, secret });
      cleanups.push(() => relay.close());
      const path = PROVIDER_SPECS[provider].path;
      const browser = connectBrowser(`${relay.base.replace(/\/v1\/talk$/, '')}${path}?token=${token(null)}`);
      expect((await browser.closed).code).toBe(1011);
      expect(relay.logs.some((e) => e.event === 'upstream-error')).toBe(true);
      expect(JSON.stringify(relay.logs)).not.toContain(apiKey);
      expect(browser.texts()).toEqual(
        provider === 'hume'
          ? [
              JSON.stringify({
                type: 'error',
                code: '4500',
                slug: 'relay_upstream_unreachable',
                message: 'The agent service is unreachable',
              }),
            ]
          : [],
      );
    }
  });
});
