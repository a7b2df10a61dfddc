/**
 * PlayAI's own browser SDK (`@play-ai/agent-web-sdk`, the version pinned in package.json),
 * unmodified, holds conversations with the local agent in headless Chromium: the deployed path
 * (`/v1/agents/<id>/start-conversation`), no API key (a public agent: `allowAnonymous`), the
 * SDK's schemas for every server message, its bookkeeping messages, its microphone gate on
 * `onAgentGreetingEnd`. The fake microphone plays synthesised speech. See docs/protocol.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { encodeWav16 } from '../../../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../../../testing/chromium.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { instrumentSdkPage, type RouteLog, routeSdkPage, serveSdkPage } from './sdkPage.ts';

const AGENT_ID = 'sdk-compat-agent';
const GREETING = 'Hello from the local agent.';
const MIC_RATE = 48_000;
/** Output RMS above this is the agent audibly speaking (-40 dBFS; synthesised speech sits near -20). */
const AUDIBLE_RMS = 0.01;
/** Output RMS below this is silence (-60 dBFS). */
const SILENT_RMS = 0.001;

interface SdkEvent {
  name: string;
  t: number;
  args: unknown[];
}

interface WireMessage {
  direction: '<' | '>';
  type: string;
  /** The whole message, except audio (`data` of audioIn, audioStream, conversationAudio). */
  message: Record<string, unknown>;
}

interface SdkPage {
  context: BrowserContext;
  page: Page;
  routes: RouteLog;
  /** Every message on the page's sockets, both ways, in order; a new socket adds a `open` entry. */
  wire: WireMessage[];
  /** The SDK's console warnings and errors (it logs "Unexpected event received." there). */
  console: string[];
  pageErrors: string[];
}

let scratch: string;
let browser: Browser;
let agent: LocalAgent;
let sdkServer: Awaited<ReturnType<typeof serveSdkPage>>;
/** The default agent: a key is required, as the API page says. */
let keyedAgent: LocalAgent;
const agentLog: string[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'voicewire-sdk-'));
  // Silence while the greeting plays (the SDK's microphone is shut until it ends), then a
  // sentence, then silence for the agent to answer in. Chromium loops the file.
  const speech = normalise(
    await synthesizeSpeech('Testing one two three. Can you hear me?', { sampleRate: MIC_RATE }),
  );
  const wav = join(scratch, 'mic.wav');
  writeFileSync(
    wav,
    encodeWav16(concat(new Float32Array(MIC_RATE * 3), speech, new Float32Array(MIC_RATE * 5)), MIC_RATE),
  );
  browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: chromiumArgs({ fakeAudioFile: wav }),
    headless: true,
  });
  agent = await startLocalAgent({ allowAnonymous: true, log: (line) => agentLog.push(line) });
  keyedAgent = await startLocalAgent({ log: false });
  sdkServer = await serveSdkPage();
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
  await keyedAgent?.close();
  await sdkServer?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function openSdkPage(query = '', target: LocalAgent = agent): Promise<SdkPage> {
  const context = await browser.newContext();
  const routes = await routeSdkPage(context, sdkServer.origin);
  const page = await context.newPage();
  await instrumentSdkPage(page, target.origin, query);
  const wire: WireMessage[] = [];
  const consoleLines: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' || message.type() === 'error') consoleLines.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('websocket', (socket) => {
    wire.push({ direction: '>', type: '(open)', message: { url: socket.url() } });
    const record = (direction: '<' | '>', payload: string | Buffer) => {
      try {
        const message = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
        if ('data' in message && typeof message.data === 'string')
          message.data = `(${message.data.length} chars)`;
        wire.push({ direction, type: String(message.type), message });
      } catch {
        wire.push({ direction, type: '(not JSON)', message: {} });
      }
    };
    socket.on('framereceived', (frame) => record('<', frame.payload));
    socket.on('framesent', (frame) => record('>', frame.payload));
  });
  const opened = { context, page, routes, wire, console: consoleLines, pageErrors };
  onTestFailed(() => {
    const summary = wire.map(
      (m) =>
        `${m.direction}${m.type === 'audioIn' || m.type === 'audioStream' ? m.type : JSON.stringify(m.message).slice(0, 200)}`,
    );
    console.log(
      `wire:\n${collapse(summary).join('\n')}\nconsole:\n${consoleLines.join('\n')}\nagent log:\n${agentLog.join('\n')}`,
    );
  });
  await page.goto(`${sdkServer.origin}/`);
  await page.waitForFunction(() => (window as unknown as { sdkLoaded?: boolean }).sdkLoaded === true);
  return opened;
}

/**
 * `connectAgent(AGENT_ID, config)` in the page, with every listener recording into
 * `window.sdkEvents`. Resolves with the conversation id.
 */
function connect(page: Page, config: Record<string, unknown>): Promise<string> {
  return page.evaluate(
    async ({ agentId, config }) => {
      const w = window as unknown as {
        connectAgent: (id: string, options: unknown) => Promise<{ conversationId: string; hangup(): void }>;
        sdkEvents: { name: string; t: number; args: unknown[] }[];
        sdkController: { hangup(): void } | undefined;
      };
      w.sdkEvents ??= [];
      const record =
        (name: string) =>
        (...args: unknown[]) =>
          w.sdkEvents.push({
            name,
            t: performance.now(),
            // Errors and events are not structured-cloneable as they are: keep what a user reads.
            args: args.map((a) =>
              a instanceof Error
                ? a.message
                : typeof a === 'object' && a !== null
                  ? JSON.parse(JSON.stringify(a))
                  : a,
            ),
          });
      const names = [
        'onUserTranscript',
        'onAgentTranscript',
        'onAgentSpeechCompleted',
        'onUserStartedSpeaking',
        'onUserStoppedSpeaking',
        'onAgentStartedSpeaking',
        'onAgentStoppedSpeaking',
        'onAgentDecidedToSpeak',
        'onHangup',
        'onError',
        'onConnect',
      ];
      const listeners = Object.fromEntries(names.map((name) => [name, record(name)]));
      const controller = await w.connectAgent(agentId, { ...config, debug: true, listeners });
      w.sdkController = controller;
      return controller.conversationId;
    },
    { agentId: AGENT_ID, config },
  );
}

function events(page: Page): Promise<SdkEvent[]> {
  return page.evaluate(() => (window as unknown as { sdkEvents?: SdkEvent[] }).sdkEvents ?? []);
}

function named(list: SdkEvent[], name: string): SdkEvent[] {
  return list.filter((e) => e.name === name);
}

async function hangUp(page: Page): Promise<void> {
  await page.evaluate(() =>
    (window as unknown as { sdkController?: { hangup(): void } }).sdkController?.hangup(),
  );
}

function unexpectedEventWarnings(lines: string[]): string[] {
  return lines.filter((line) => line.includes('Unexpected event'));
}

describe('PlayAI agent-web-sdk against the local agent', () => {
  test('init, the greeting plays, speech gets a transcript and a reply, and a resumed call still hears the microphone', async () => {
    const { context, page, routes, wire, console: consoleLines, pageErrors } = await openSdkPage();
    try {
      const conversationId = await connect(page, { customGreeting: GREETING });
      expect(conversationId).toMatch(/^conv_/);

      // The deployed path, and a setup without a key.
      expect(wire[0]!.message.url).toBe(`${agent.origin}/v1/agents/${AGENT_ID}/start-conversation`);
      const setup = wire.find((m) => m.direction === '>' && m.type === 'setup')!;
      expect(setup.message).not.toHaveProperty('apiKey');
      expect(setup.message).toMatchObject({
        inputEncoding: 'mulaw',
        inputSampleRate: 16_000,
        customGreeting: GREETING,
      });
      const init = wire.find((m) => m.direction === '<' && m.type === 'init')!;
      expect(init.message.conversationId).toBe(conversationId);

      // The SDK speaks its user's words back as transcripts of ours, and the agent replies.
      await expect
        .poll(async () => named(await events(page), 'onAgentTranscript').length, { timeout: 60_000 })
        .toBeGreaterThan(0);
      const list = await events(page);
      expect(named(list, 'onUserTranscript')[0]!.args[0]).toMatch(/^\(\d+\.\d s of speech\)$/);
      expect(named(list, 'onAgentTranscript')[0]!.args[0]).toBe('Here is what I heard.');
      // The greeting's audioStreamEnd reached the SDK's listener: its schema accepted the shape.
      const completed = named(list, 'onAgentSpeechCompleted');
      expect(completed[0]!.args[0]).toBe(GREETING);
      expect(typeof completed[0]!.args[1]).toBe('number');

      // The greeting played: a level on the SDK's output after it connected and before the reply
      // (whose transcript comes before its audio), silence before it connected. (Its end as the
      // SDK reports it is no bound: on a loaded machine the playback lags what was received.)
      const levels = await page.evaluate(
        () => (window as unknown as { outputLevels: { t: number; rms: number }[] }).outputLevels,
      );
      const replyAt = named(list, 'onAgentTranscript')[0]!.t;
      const connected = named(list, 'onConnect')[0]!.t;
      const before = levels.filter((l) => l.t < connected);
      const during = levels.filter((l) => l.t >= connected && l.t < replyAt);
      expect(before.length).toBeGreaterThan(0);
      expect(Math.max(...before.map((l) => l.rms))).toBeLessThan(SILENT_RMS);
      expect(Math.max(...during.map((l) => l.rms))).toBeGreaterThan(AUDIBLE_RMS);

      // The user hangs up: the SDK uploads its recording (conversationAudio) and closes.
      await hangUp(page);
      await expect
        .poll(async () => named(await events(page), 'onHangup').length, { timeout: 30_000 })
        .toBe(1);

      // A resumed conversation: no greeting, but the microphone still reaches the agent.
      const firstCall = wire.length;
      const resumed = await connect(page, { continueConversation: conversationId });
      expect(resumed).toBe(conversationId);
      await expect
        .poll(
          () =>
            wire.slice(firstCall).filter((m) => m.type === 'audioIn' && m.message.data !== '(0 chars)')
              .length,
          { timeout: 20_000 },
        )
        .toBeGreaterThan(20);
      const second = wire.slice(firstCall).map((m) => m.type);
      expect(second).not.toContain('onAgentGreeting');
      expect(second.indexOf('onAgentGreetingEnd')).toBeGreaterThan(second.indexOf('init'));
      await hangUp(page);
      await expect
        .poll(async () => named(await events(page), 'onHangup').length, { timeout: 30_000 })
        .toBe(2);

      const all = await events(page);
      expect(named(all, 'onError')).toEqual([]);
      expect(unexpectedEventWarnings(consoleLines)).toEqual([]);
      // The agent never sent an error, and took the SDK's bookkeeping quietly.
      expect(wire.filter((m) => m.direction === '<' && m.type === 'error')).toEqual([]);
      const sent = new Set(wire.filter((m) => m.direction === '>').map((m) => m.type));
      expect(sent).toContain('conversationAudio');
      expect(sent).toContain('mediaLog');
      expect(agentLog.filter((line) => line.includes('unknown type'))).toEqual([]);
      // Nothing was fetched from outside: the CDN files came from npm packages.
      expect(routes.refused).toEqual([]);
      expect(routes.served).toContain('https://play.ai/silero_vad.onnx');
      expect(routes.served.some((url) => url.startsWith('https://play.ai/ort/'))).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('?hangupAfterTurns=1: after the first reply the agent says goodbye and hangs up; the SDK reports endedBy agent', async () => {
    const { context, page, wire, console: consoleLines } = await openSdkPage('hangupAfterTurns=1');
    try {
      await connect(page, { customGreeting: 'Hi.' });
      await expect
        .poll(async () => named(await events(page), 'onHangup').length, { timeout: 60_000 })
        .toBeGreaterThan(0);
      await page.waitForTimeout(1_000);
      const list = await events(page);
      // The SDK reports the hangup message and then the clean close, each as a hangup by the
      // agent (its own double report): every report says `agent`.
      const hangups = named(list, 'onHangup');
      expect(hangups.length).toBeLessThanOrEqual(2);
      expect(hangups.map((e) => e.args)).toEqual(hangups.map(() => ['agent']));
      expect(named(list, 'onAgentTranscript').map((e) => e.args[0])).toEqual([
        'Here is what I heard.',
        'That is all for now. Goodbye!',
      ]);
      const received = wire.filter((m) => m.direction === '<').map((m) => m.type);
      const hangup = received.lastIndexOf('hangup');
      expect(received.slice(hangup - 1, hangup + 1)).toEqual(['audioStreamEnd', 'hangup']);
      expect(wire.find((m) => m.type === 'hangup')!.message).toEqual({ type: 'hangup', endedBy: 'agent' });
      expect(named(list, 'onError')).toEqual([]);
      expect(unexpectedEventWarnings(consoleLines)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a refused setup (no key where one is required) reaches the SDK in a shape it accepts', async () => {
    const { context, page, wire, console: consoleLines } = await openSdkPage('', keyedAgent);
    try {
      const failed = await connect(page, { customGreeting: GREETING }).then(
        () => 'connected',
        (error: Error) => error.message,
      );
      expect(failed).toMatch(/Failed to start conversation/);
      // Its schema took the error (an error without isFatal is dropped as an unexpected event).
      expect(unexpectedEventWarnings(consoleLines)).toEqual([]);
      const error = wire.find((m) => m.direction === '<' && m.type === 'error')!;
      expect(error.message).toEqual({
        type: 'error',
        code: 1001,
        message: expect.stringMatching(/no apiKey/),
        isFatal: true,
      });
    } finally {
      await context.close();
    }
  });
});

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Speech peaking at -6 dBFS: loud enough for any detector, never clipped. */
function normalise(samples: Float32Array): Float32Array {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  return peak === 0 ? samples : samples.map((s) => (s * 0.5) / peak);
}

/** Runs of the same line shown once with a count. */
function collapse(lines: string[]): string[] {
  const out: string[] = [];
  let last = '';
  let count = 0;
  for (const line of [...lines, '\u0000']) {
    if (line === last) {
      count++;
      continue;
    }
    if (count > 0) out.push(count > 1 ? `${last} ×${count}` : last);
    last = line;
    count = 1;
  }
  return out;
}
