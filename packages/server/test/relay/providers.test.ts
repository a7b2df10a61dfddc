import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSessionToken, type RelayProviderName } from '../../src/relay/index.ts';
import { startRelay } from './helpers.ts';
import { connectBrowser, requestText, startVendor } from './vendors.ts';

// What each vendor receives from the relay, read on the vendor's side of the wire: the path, the
// query, the headers, the subprotocols, the frames. The browser presents our session token and
// whatever credentials a careless page might add; only the relay's key, carried the vendor's
// way, may arrive.

const apiKey = 'vendor-real-key-0123456789';
const secret = 'relay-secret-providers';

/** Credentials a browser might send, in every form: none may reach the vendor. */
const BROWSER_SECRETS = [
  'browser-k-1',
  'browser-sig-2',
  'sk-browser-3',
  'browser-bearer-4',
  'browser-cookie-5',
];
const BROWSER_QUERY =
  'key=browser-k-1&api_key=browser-k-1&access_token=browser-k-1&xi-api-key=browser-k-1&conversation_signature=browser-sig-2';
const BROWSER_HEADERS = {
  authorization: 'Bearer browser-k-1',
  'xi-api-key': 'browser-k-1',
  cookie: 'session=browser-cookie-5',
};

interface ProviderCase {
  path: string;
  /** The query the vendor's client adds (before the relay's token and the stray credentials). */
  query: string;
  /** What the token is bound to; null for a token bound to nothing. */
  target: string | null;
  protocols: string[];
  /** The subprotocol the browser is answered with ('' for none). */
  echo: string;
  upstreamProtocols: string[];
  upstreamQuery: [string, string][];
  /** The credential header the vendor gets, if it takes one. */
  header?: [string, string];
  firstMessage: string;
}

const CASES: Record<Exclude<RelayProviderName, 'playai'>, ProviderCase> = {
  openai: {
    path: '/v1/realtime',
    query: 'model=gpt-realtime&voice=marin',
    target: 'gpt-realtime',
    protocols: ['realtime', 'openai-insecure-api-key.sk-browser-3', 'openai-agents-sdk.0.20.0'],
    echo: 'realtime',
    upstreamProtocols: ['realtime'],
    upstreamQuery: [['model', 'gpt-realtime']],
    header: ['authorization', `Bearer ${apiKey}`],
    firstMessage: JSON.stringify({
      type: 'session.update',
      session: { type: 'realtime', instructions: 'hi' },
    }),
  },
  elevenlabs: {
    path: '/v1/convai/conversation',
    query: 'agent_id=agent_7&source=js_sdk&version=1.25.0',
    target: 'agent_7',
    protocols: ['convai', 'bearer.browser-bearer-4'],
    echo: 'convai',
    upstreamProtocols: ['convai'],
    upstreamQuery: [
      ['agent_id', 'agent_7'],
      ['source', 'js_sdk'],
      ['version', '1.25.0'],
    ],
    header: ['xi-api-key', apiKey],
    firstMessage: JSON.stringify({
      type: 'conversation_initiation_client_data',
      conversation_config_override: { agent: { first_message: 'Hello — «ünï» 👋' } },
    }),
  },
  gemini: {
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    query: '',
    target: 'gemini-live-2.5-flash',
    protocols: [],
    echo: '',
    upstreamProtocols: [],
    upstreamQuery: [['key', apiKey]],
    firstMessage: JSON.stringify({
      setup: { model: 'models/gemini-live-2.5-flash', generationConfig: { responseModalities: ['AUDIO'] } },
    }),
  },
  deepgram: {
    path: '/v1/agent/converse',
    query: '',
    target: null,
    protocols: ['token', 'sk-browser-3'],
    echo: 'token',
    upstreamProtocols: [],
    upstreamQuery: [],
    header: ['authorization', `Token ${apiKey}`],
    firstMessage: JSON.stringify({
      type: 'Settings',
      audio: { input: { encoding: 'linear16', sample_rate: 16000 } },
    }),
  },
  hume: {
    path: '/v0/evi/chat',
    query: 'config_id=cfg-1&resumed_chat_group_id=grp-9&verbose_transcription=true',
    target: 'cfg-1',
    protocols: [],
    echo: '',
    upstreamProtocols: [],
    upstreamQuery: [
      ['config_id', 'cfg-1'],
      ['resumed_chat_group_id', 'grp-9'],
      ['verbose_transcription', 'true'],
      ['api_key', apiKey],
    ],
    firstMessage: JSON.stringify({
      type: 'session_settings',
      audio: { encoding: 'linear16', sample_rate: 16000, channels: 1 },
    }),
  },
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(provider: RelayProviderName, extra: Record<string, unknown> = {}) {
  const vendor = await startVendor();
  cleanups.push(() => vendor.close());
  const relay = await startRelay({ provider, upstream: vendor.origin, apiKey, secret, ...extra });
  cleanups.push(() => relay.close());
  return { vendor, relay, origin: relay.base.replace(/\/v1\/talk$/, '') };
}

function token(target: string | null, overrides: Record<string, unknown> = {}): string {
  return createSessionToken({ secret, target, ttlSeconds: 60, ...overrides });
}

function browserUrl(origin: string, c: ProviderCase, t: string): string {
  return `${origin}${c.path}?${c.query ? `${c.query}&` : ''}${BROWSER_QUERY}&token=${t}`;
}

describe('the relay carries each vendor its credential its way, and nothing of the browser’s', () => {
  for (const [provider, c] of Object.entries(CASES) as [RelayProviderName, ProviderCase][]) {
    it(`${provider}: path, query, headers, subprotocols, first message; binary both ways unchanged`, async () => {
      const { vendor, origin } = await setup(provider);
      const t = token(c.target);
      const browser = connectBrowser(browserUrl(origin, c, t), {
        protocols: c.protocols,
        headers: BROWSER_HEADERS,
        origin: 'https://shop.example',
      });
      await browser.opened;
      expect(browser.socket.protocol).toBe(c.echo);
      browser.socket.send(c.firstMessage);
      const connection = await vendor.nextConnection();

      expect(connection.url.pathname).toBe(c.path);
      expect([...connection.url.searchParams]).toEqual(c.upstreamQuery);
      expect(connection.offered).toEqual(c.upstreamProtocols);
      const credentialHeaders = ['authorization', 'xi-api-key', 'cookie', 'origin', 'openai-beta'];
      for (const name of credentialHeaders)
        expect(connection.headers[name]).toBe(c.header?.[0] === name ? c.header[1] : undefined);
      const seen = requestText(connection);
      for (const value of [...BROWSER_SECRETS, t]) expect(seen).not.toContain(value);
      // The key appears exactly where the vendor takes it, once.
      expect(seen.split(apiKey)).toHaveLength(2);

      await expect.poll(() => connection.frames.length).toBe(1);
      expect(connection.frames[0]).toEqual({ data: Buffer.from(c.firstMessage), isBinary: false });

      // Binary frames (Deepgram's audio) pass byte for byte, both ways; text from the vendor too.
      const up = Buffer.from(Array.from({ length: 3200 }, (_, i) => (i * 37) & 0xff));
      browser.socket.send(up);
      await expect.poll(() => connection.frames.length).toBe(2);
      expect(connection.frames[1]).toEqual({ data: up, isBinary: true });
      const down = Buffer.from(Array.from({ length: 4800 }, (_, i) => (i * 11 + 3) & 0xff));
      const text = JSON.stringify({ type: 'anything', text: 'ça va? 😀' });
      connection.socket.send(down);
      connection.socket.send(text);
      await browser.waitForFrames(2);
      expect(browser.frames).toEqual([
        { data: down, isBinary: true },
        { data: Buffer.from(text), isBinary: false },
      ]);
      browser.socket.close(1000);
      expect(await connection.closed).toMatchObject({ code: 1000 });
    });
  }

  it('playai: a credential subprotocol is never echoed; the setup gets the key as always', async () => {
    const vendor = await startVendor();
    cleanups.push(() => vendor.close());
    const relay = await startRelay({ upstream: `${vendor.origin}/v1/talk`, apiKey, secret });
    cleanups.push(() => relay.close());
    const browser = connectBrowser(`${relay.base}/Agent-1?token=${token('Agent-1')}&key=browser-k-1`, {
      protocols: ['openai-insecure-api-key.sk-browser-3', 'talk'],
    });
    await browser.opened;
    expect(browser.socket.protocol).toBe('talk');
    browser.socket.send(JSON.stringify({ type: 'setup', apiKey: 'browser-k-1' }));
    const connection = await vendor.nextConnection();
    expect(`${connection.url.pathname}${connection.url.search}`).toBe('/v1/talk/Agent-1');
    expect(connection.offered).toEqual([]);
    await expect.poll(() => connection.frames.length).toBe(1);
    expect(JSON.parse(connection.frames[0]?.data.toString() ?? '')).toEqual({ type: 'setup', apiKey });
    browser.socket.close();
    await connection.closed;
  });

  it('refuses with HTTP 400 a browser whose every subprotocol is a credential', async () => {
    const { vendor, relay, origin } = await setup('openai');
    for (const protocols of [['openai-insecure-api-key.sk-browser-3'], ['bearer.x', 'token.y']]) {
      const socket = new WebSocket(
        `${origin}/v1/realtime?model=gpt-realtime&token=${token(null)}`,
        protocols,
      );
      socket.on('error', () => {});
      const status = await new Promise<number>((resolve) => {
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('open', () => resolve(101));
      });
      expect(status).toBe(400);
    }
    expect(vendor.connections).toHaveLength(0);
    expect(relay.relay.metrics()).toContain('voicewire_relay_sessions_refused_total{reason="subprotocol"} 2');
  });
});

describe('what a token may open, per provider', () => {
  const refusals: [RelayProviderName, string, string | null, (frames: string[]) => void][] = [
    [
      'openai',
      '/v1/realtime?model=gpt-realtime-mini',
      'gpt-realtime',
      (frames) => {
        expect(frames).toHaveLength(1);
        expect(JSON.parse(frames[0] as string)).toMatchObject({
          type: 'error',
          error: {
            type: 'relay_error',
            code: 'relay_unauthorized',
            message: expect.stringMatching(/another model/),
          },
        });
      },
    ],
    // ElevenLabs' client wants the session metadata first: the close reason carries the error.
    [
      'elevenlabs',
      '/v1/convai/conversation?agent_id=agent_8',
      'agent_7',
      (frames) => expect(frames).toEqual([]),
    ],
    [
      'hume',
      '/v0/evi/chat?config_id=cfg-2',
      'cfg-1',
      (frames) =>
        expect(JSON.parse(frames[0] as string)).toEqual({
          type: 'error',
          code: '4401',
          slug: 'relay_unauthorized',
          message: 'Unauthorized: The session token is for another config',
        }),
    ],
    [
      'hume',
      '/v0/evi/chat',
      'cfg-1',
      (frames) => expect(JSON.parse(frames[0] as string)).toMatchObject({ slug: 'relay_unauthorized' }),
    ],
    [
      'deepgram',
      '/v1/agent/converse',
      'anything',
      (frames) =>
        expect(JSON.parse(frames[0] as string)).toEqual({
          type: 'Error',
          description: expect.stringMatching(/cannot check; mint it with target: null/),
          code: 'relay_unauthorized',
        }),
    ],
  ];
  for (const [provider, path, bound, checkFrames] of refusals) {
    it(`${provider}: a token bound to ${bound} does not open ${path} (4401, in the vendor's words)`, async () => {
      const { vendor, origin } = await setup(provider);
      const browser = connectBrowser(
        `${origin}${path}${path.includes('?') ? '&' : '?'}token=${token(bound)}`,
      );
      const closed = await browser.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^Unauthorized: The session token/);
      checkFrames(browser.texts());
      expect(vendor.connections).toHaveLength(0);
    });
  }

  it('a token bound to no target opens any; one bound to the target opens it (old agentId tokens too)', async () => {
    const { vendor, origin } = await setup('elevenlabs');
    for (const t of [token(null), token('agent_7'), createSessionToken({ secret, agentId: 'agent_7' })]) {
      const browser = connectBrowser(`${origin}/v1/convai/conversation?agent_id=agent_7&token=${t}`);
      await browser.opened;
      const connection = await vendor.nextConnection();
      expect(connection.url.searchParams.get('agent_id')).toBe('agent_7');
      browser.socket.close();
      await connection.closed;
    }
  });
});
