import { afterEach, describe, expect, it } from 'vitest';
import { createSessionToken, type RelayProviderName } from '../../src/relay/index.ts';
import { startRelay } from './helpers.ts';
import { type Browser, connectBrowser, type Frame, startVendor, type VendorConnection } from './vendors.ts';

// The relay's limits hold for every vendor: the audio rate cap counts each vendor's audio
// messages in the format the session declared, whatever their spelling.

const apiKey = 'vendor-real-key-limits';
const secret = 'relay-secret-limits';

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

const token = (target: string | null) => createSessionToken({ secret, target, ttlSeconds: 60 });
const b64 = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill).toString('base64');

interface RateCase {
  name: string;
  provider: RelayProviderName;
  path: string;
  /** Client messages that declare the format, sent first. */
  declare: string[];
  /** The vendor's first message (ElevenLabs names the input format in it). */
  vendorFirst?: string;
  /** One 20 ms audio frame at the declared format. */
  frame(): string | Buffer;
  isAudio(frame: Frame): boolean;
  /** A control message that the cap never drops. */
  marker: string;
}

const pcmFrame = (ms: number, rate: number, bytesPerSample = 2) => (rate * bytesPerSample * ms) / 1000;

const RATE_CASES: RateCase[] = [
  {
    name: 'openai, the default pcm16 24 kHz',
    provider: 'openai',
    path: '/v1/realtime?model=m',
    declare: [],
    frame: () => JSON.stringify({ type: 'input_audio_buffer.append', audio: b64(pcmFrame(20, 24_000)) }),
    isAudio: (f) => f.data.includes('input_audio_buffer.append'),
    marker: JSON.stringify({ type: 'response.create' }),
  },
  {
    name: 'openai, G.711 μ-law declared by session.update, frames spelt another way (parsed)',
    provider: 'openai',
    path: '/v1/realtime?model=m',
    declare: [
      JSON.stringify({
        type: 'session.update',
        session: { audio: { input: { format: { type: 'audio/pcmu' } } } },
      }),
    ],
    frame: () =>
      JSON.stringify({ event_id: 'e', type: 'input_audio_buffer.append', audio: b64(pcmFrame(20, 8000, 1)) }),
    isAudio: (f) => f.data.includes('input_audio_buffer.append'),
    marker: JSON.stringify({ type: 'response.create' }),
  },
  {
    name: 'elevenlabs, ulaw_8000 as the session metadata announces',
    provider: 'elevenlabs',
    path: '/v1/convai/conversation?agent_id=a',
    declare: [],
    vendorFirst: JSON.stringify({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: {
        conversation_id: 'c',
        agent_output_audio_format: 'pcm_16000',
        user_input_audio_format: 'ulaw_8000',
      },
    }),
    frame: () => JSON.stringify({ user_audio_chunk: b64(pcmFrame(20, 8000, 1)) }),
    isAudio: (f) => f.data.includes('user_audio_chunk'),
    marker: JSON.stringify({ type: 'pong', event_id: 1 }),
  },
  {
    name: 'gemini, the rate each frame names (24 kHz)',
    provider: 'gemini',
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    declare: [JSON.stringify({ setup: { model: 'models/m' } })],
    frame: () =>
      JSON.stringify({
        realtimeInput: { audio: { data: b64(pcmFrame(20, 24_000)), mimeType: 'audio/pcm;rate=24000' } },
      }),
    isAudio: (f) => f.data.includes('realtimeInput'),
    marker: JSON.stringify({ clientContent: { turnComplete: true } }),
  },
  {
    name: 'gemini, the older mediaChunks (parsed)',
    provider: 'gemini',
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    declare: [JSON.stringify({ setup: { model: 'models/m' } })],
    frame: () =>
      JSON.stringify({
        realtimeInput: {
          mediaChunks: [{ mimeType: 'audio/pcm;rate=16000', data: b64(pcmFrame(20, 16_000)) }],
        },
      }),
    isAudio: (f) => f.data.includes('realtimeInput'),
    marker: JSON.stringify({ clientContent: { turnComplete: true } }),
  },
  {
    name: 'deepgram, binary linear16 16 kHz as Settings declares',
    provider: 'deepgram',
    path: '/v1/agent/converse',
    declare: [
      JSON.stringify({ type: 'Settings', audio: { input: { encoding: 'linear16', sample_rate: 16_000 } } }),
    ],
    frame: () => Buffer.alloc(pcmFrame(20, 16_000), 3),
    isAudio: (f) => f.isBinary,
    marker: JSON.stringify({ type: 'KeepAlive' }),
  },
  {
    name: 'hume, linear16 16 kHz per a session_settings message, Hume’s field order',
    provider: 'hume',
    path: '/v0/evi/chat',
    declare: [
      JSON.stringify({
        type: 'session_settings',
        audio: { encoding: 'linear16', sample_rate: 16_000, channels: 1 },
      }),
    ],
    frame: () => `{"data":"${b64(pcmFrame(20, 16_000))}","type":"audio_input"}`,
    isAudio: (f) => f.data.includes('audio_input'),
    marker: JSON.stringify({ type: 'pause_assistant_message' }),
  },
  {
    name: 'hume, linear16 24 kHz stereo per the session_settings query',
    provider: 'hume',
    path: `/v0/evi/chat?session_settings=${encodeURIComponent(
      JSON.stringify({ audio: { encoding: 'linear16', sample_rate: 24_000, channels: 2 } }),
    )}`,
    declare: [],
    frame: () => JSON.stringify({ type: 'audio_input', data: b64(pcmFrame(20, 24_000) * 2) }),
    isAudio: (f) => f.data.includes('audio_input'),
    marker: JSON.stringify({ type: 'pause_assistant_message' }),
  },
];

describe('the audio rate cap, per vendor: twice real time in the declared format', () => {
  for (const c of RATE_CASES) {
    it(c.name, async () => {
      const { vendor, relay, origin } = await setup(c.provider);
      const browser = connectBrowser(
        `${origin}${c.path}${c.path.includes('?') ? '&' : '?'}token=${token(null)}`,
      );
      await browser.opened;
      for (const message of c.declare) browser.socket.send(message);
      const connection = await vendor.nextConnection();
      await expect.poll(() => connection.frames.length).toBe(c.declare.length);
      if (c.vendorFirst) {
        connection.socket.send(c.vendorFirst);
        await browser.waitForFrames(1);
      }
      // 500 frames of 20 ms (ten seconds) at once: the bucket holds one second at twice real
      // time, 100 frames; it refills at 100 frames a second while the flood is read.
      for (let i = 0; i < 500; i++) browser.socket.send(c.frame());
      browser.socket.send(c.marker);
      await expect.poll(() => connection.frames.at(-1)?.data.toString(), { timeout: 15_000 }).toBe(c.marker);
      const passed = connection.frames.filter(c.isAudio).length;
      expect(passed).toBeGreaterThanOrEqual(100);
      expect(passed).toBeLessThan(250);
      expect(relay.logs.some((entry) => entry.event === 'audio-rate-exceeded')).toBe(true);
      expect(relay.relay.metrics()).toMatch(/voicewire_relay_audio_frames_dropped_total [1-9]\d*/);
      browser.socket.close();
    });
  }
});

describe('Gemini: the model a token is bound to is checked on the setup message', () => {
  const path = '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent';
  async function open(bound: string | null, first: string | Buffer) {
    const { vendor, relay, origin } = await setup('gemini');
    const browser = connectBrowser(`${origin}${path}?token=${token(bound)}`);
    await browser.opened;
    browser.socket.send(first);
    const connection = await vendor.nextConnection();
    return { vendor, relay, browser, connection };
  }
  const setupFor = (model: string) => JSON.stringify({ setup: { model } });

  for (const [bound, model] of [
    ['gemini-live-2.5-flash', 'models/gemini-live-2.5-flash'],
    ['models/gemini-live-2.5-flash', 'gemini-live-2.5-flash'],
    [null, 'models/anything'],
  ] as const) {
    it(`a token bound to ${bound} opens a setup for ${model}`, async () => {
      const { browser, connection } = await open(bound, setupFor(model));
      await expect.poll(() => connection.frames.length).toBe(1);
      expect(connection.frames[0]?.data.toString()).toBe(setupFor(model));
      browser.socket.close();
    });
  }

  for (const [what, first] of [
    ['another model', setupFor('models/gemini-2.5-pro')],
    ['audio before the setup', JSON.stringify({ realtimeInput: { audio: { data: 'AAAA' } } })],
    ['a binary frame', Buffer.from('abc')],
  ] as const) {
    it(`refuses ${what} with 4401 before anything reaches Gemini`, async () => {
      const { relay, browser, connection } = await open('gemini-live-2.5-flash', first);
      expect(await browser.closed).toEqual({
        code: 4401,
        reason: 'Unauthorized: The session token is for another model',
      });
      // Gemini has no error message: the close says it all.
      expect(browser.frames).toEqual([]);
      // Gemini's socket was opening meanwhile: it is closed (4401, or dropped if still opening) unused.
      await connection.closed;
      expect(connection.frames).toEqual([]);
      expect(relay.relay.metrics()).toContain(
        'voicewire_relay_sessions_refused_total{reason="token-wrong-agent"} 1',
      );
    });
  }
});

describe('limits and ends, for a vendor other than PlayAI', () => {
  async function live(provider: RelayProviderName, path: string, extra: Record<string, unknown> = {}) {
    const { vendor, relay, origin } = await setup(provider, extra);
    const t = createSessionToken({ secret, target: null, id: `visitor-${provider}` });
    const browser: Browser = connectBrowser(`${origin}${path}${path.includes('?') ? '&' : '?'}token=${t}`);
    await browser.opened;
    const connection: VendorConnection = await vendor.nextConnection();
    // Once a message has crossed, both legs are open.
    const hello = JSON.stringify({ type: 'hello' });
    browser.socket.send(hello);
    await expect.poll(() => connection.frames.map((f) => f.data.toString())).toEqual([hello]);
    return { vendor, relay, browser, connection };
  }

  it('hume: a message over maxMessageBytes gets Hume’s error and 4400 on both sides', async () => {
    const { browser, connection } = await live('hume', '/v0/evi/chat', { maxMessageBytes: 4096 });
    browser.socket.send(JSON.stringify({ type: 'user_input', text: 'x'.repeat(5000) }));
    expect((await browser.closed).code).toBe(4400);
    expect(JSON.parse(browser.texts()[0] as string)).toMatchObject({
      type: 'error',
      code: '4400',
      slug: 'relay_bad_request',
    });
    expect((await connection.closed).code).toBe(4400);
    expect(connection.frames).toHaveLength(1);
  });

  it('deepgram: a revoked token closes the live session with Deepgram’s Error and 4401', async () => {
    const { relay, browser, connection } = await live('deepgram', '/v1/agent/converse');
    await relay.relay.revokeToken('visitor-deepgram');
    expect((await browser.closed).code).toBe(4401);
    expect(JSON.parse(browser.texts()[0] as string)).toEqual({
      type: 'Error',
      description: 'Unauthorized: the session token was revoked',
      code: 'relay_unauthorized',
    });
    expect((await connection.closed).code).toBe(4401);
  });

  it('openai: close() ends the session with 1001 both ways; idle sessions close with 1000', async () => {
    const first = await live('openai', '/v1/realtime?model=m');
    await first.relay.relay.close();
    expect((await first.browser.closed).code).toBe(1001);
    expect((await first.connection.closed).code).toBe(1001);
    const idle = await live('openai', '/v1/realtime?model=m', { idleTimeoutMs: 200 });
    expect(await idle.browser.closed).toEqual({ code: 1000, reason: 'idle timeout' });
    expect((await idle.connection.closed).code).toBe(1000);
  });

  it('openai: the vendor’s close reaches the browser with its code and reason', async () => {
    const { browser, connection } = await live('openai', '/v1/realtime?model=m');
    connection.socket.close(4000, 'vendor says bye');
    expect(await browser.closed).toEqual({ code: 4000, reason: 'vendor says bye' });
  });

  it('sessions per target: maxSessionsPerAgent counts per model', async () => {
    const { vendor, origin } = await setup('openai', { maxSessionsPerAgent: 1 });
    const open = (model: string) =>
      connectBrowser(`${origin}/v1/realtime?model=${model}&token=${token(null)}`);
    const a = open('m1');
    await a.opened;
    await vendor.nextConnection();
    const b = open('m1');
    expect((await b.closed).code).toBe(4429);
    expect(JSON.parse(b.texts()[0] as string)).toMatchObject({ error: { code: 'relay_too_many_sessions' } });
    const c = open('m2');
    await c.opened;
    await vendor.nextConnection();
    a.socket.close();
    c.socket.close();
  });
});
