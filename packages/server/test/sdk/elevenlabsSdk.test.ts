/**
 * ElevenLabs' own browser SDK (`@elevenlabs/client`, the version pinned in package.json),
 * unmodified, holds conversations with the local agent in headless Chromium over a WebSocket
 * (`connectionType: 'websocket'`, `origin: ws://127.0.0.1:PORT`): its microphone is Chromium's
 * fake device playing synthesised speech, its player is its own AudioWorklet. The microphone
 * file is laid out so that one call has every case: a turn answered in full, a turn whose reply
 * the next sentence barges into, and a last turn whose reply ends the call (`hangupAfterTurns: 2`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { concat, encodeWav16 } from '../../../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../../../testing/chromium.ts';
import { REPLY_TEXT } from '../../src/agent/response.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { routeElevenLabsPage, serveElevenLabsPage, tapOutput } from './elevenlabsPage.ts';
import { normalise } from './pacedMicrophone.ts';

const AGENT_ID = 'sdk-compat-agent';
const GREETING = 'Hello from the local agent.';
const GOODBYE = 'That is all for now. Goodbye!';
const MIC_RATE = 48_000;
const KEY = 'xi-local-sdk-test-key';
/** Output RMS above this is the agent audibly speaking (-40 dBFS; synthesised speech sits near -20). */
const AUDIBLE_RMS = 0.01;

interface SdkEvent {
  name: string;
  t: number;
  arg: unknown;
}

interface WireMessage {
  direction: '<' | '>';
  type: string;
  message: Record<string, unknown>;
}

let scratch: string;
let browser: Browser;
/** A public agent (no credential), whose calls end after two replies. */
let publicAgent: LocalAgent;
/** A private agent: a key, or a signed URL minted from it. */
let privateAgent: LocalAgent;
let pageServer: Awaited<ReturnType<typeof serveElevenLabsPage>>;
const agentLog: string[] = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'voicewire-elevenlabs-'));
  const speech = normalise(
    await synthesizeSpeech('Testing one two three. Can you hear me?', { sampleRate: MIC_RATE }),
  );
  const silence = (seconds: number) => new Float32Array(Math.round(MIC_RATE * seconds));
  // 3 s for the greeting, a turn whose reply plays out (6 s of silence), two turns whose replies
  // the next sentence interrupts early (1 s and 1.2 s after the turn: the reply starts 0.6 s
  // after it), then 6.5 s for the last reply and the goodbye.
  const mic = concat(
    silence(3),
    speech,
    silence(6),
    speech,
    silence(1),
    speech,
    silence(1.2),
    speech,
    silence(6.5),
  );
  const wav = join(scratch, 'mic.wav');
  writeFileSync(wav, encodeWav16(mic, MIC_RATE));
  browser = await chromium.launch({
    executablePath: chromiumExecutable(),
    args: chromiumArgs({ fakeAudioFile: wav }),
    headless: true,
  });
  // The greeting is the agent's own too, so that it is rendered before the call: the fake
  // microphone's file may be anywhere when the SDK opens it, and speech that came before the
  // greeting started would (rightly) drop it.
  publicAgent = await startLocalAgent({
    allowAnonymous: true,
    greeting: GREETING,
    hangupAfterTurns: 2,
    log: (line) => agentLog.push(line),
  });
  privateAgent = await startLocalAgent({ apiKeys: [KEY], log: (line) => agentLog.push(line) });
  pageServer = await serveElevenLabsPage();
});

afterAll(async () => {
  await browser?.close();
  await publicAgent?.close();
  await privateAgent?.close();
  await pageServer?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function openPage() {
  const context = await browser.newContext();
  const refused = await routeElevenLabsPage(context, pageServer.origin);
  const page = await context.newPage();
  await tapOutput(page);
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
        if ('user_audio_chunk' in message) {
          wire.push({ direction, type: '(user_audio_chunk)', message: {} });
          return;
        }
        if (message.type === 'audio') message.audio_event = { event_id: message.audio_event?.event_id };
        wire.push({ direction, type: String(message.type), message });
      } catch {
        wire.push({ direction, type: '(not JSON)', message: {} });
      }
    };
    socket.on('framereceived', (frame) => record('<', frame.payload));
    socket.on('framesent', (frame) => record('>', frame.payload));
  });
  onTestFailed(() => {
    // Audio both ways is counted, not listed: the other messages are the story.
    const lines = wire
      .filter((m) => m.type !== '(user_audio_chunk)' && m.type !== 'audio')
      .map(
        (m) => `${m.direction}${m.type.startsWith('(') ? m.type : JSON.stringify(m.message).slice(0, 200)}`,
      );
    const audio = wire.filter((m) => m.type === 'audio').length;
    const chunks = wire.filter((m) => m.type === '(user_audio_chunk)').length;
    console.log(
      `wire (${audio} audio, ${chunks} user_audio_chunk):\n${collapse(lines).join('\n')}\nconsole:\n${consoleLines.join('\n')}\nagent log:\n${agentLog.join('\n')}`,
    );
  });
  await page.goto(`${pageServer.origin}/`);
  await page.waitForFunction(() => (window as unknown as { sdkLoaded?: boolean }).sdkLoaded === true);
  return { context, page, wire, refused, console: consoleLines, pageErrors };
}

/** `Conversation.startSession(options)` in the page with every callback recorded; resolves with the conversation id. */
function startSession(page: Page, options: Record<string, unknown>): Promise<string> {
  return page.evaluate(async (options) => {
    const w = window as unknown as {
      ElevenLabsClient: {
        Conversation: { startSession(o: unknown): Promise<{ getId(): string; endSession(): Promise<void> }> };
      };
      sdkEvents: { name: string; t: number; arg: unknown }[];
      conversation?: { endSession(): Promise<void> };
    };
    w.sdkEvents ??= [];
    const record = (name: string) => (arg?: unknown) => {
      w.sdkEvents.push({
        name,
        t: performance.now(),
        arg: arg === undefined ? null : JSON.parse(JSON.stringify(arg)),
      });
    };
    const callbacks = Object.fromEntries(
      [
        'onConnect',
        'onDisconnect',
        'onMessage',
        'onModeChange',
        'onStatusChange',
        'onInterruption',
        'onAgentResponseCorrection',
        'onDebug',
        'onPing',
      ].map((name) => [name, record(name)]),
    );
    let audioChunks = 0;
    const conversation = await w.ElevenLabsClient.Conversation.startSession({
      ...options,
      ...callbacks,
      onError: (message: string) => w.sdkEvents.push({ name: 'onError', t: performance.now(), arg: message }),
      onAudio: () => {
        if (audioChunks++ === 0) w.sdkEvents.push({ name: 'firstAudio', t: performance.now(), arg: null });
      },
    });
    w.conversation = conversation;
    return conversation.getId();
  }, options);
}

function events(page: Page): Promise<SdkEvent[]> {
  return page.evaluate(() => (window as unknown as { sdkEvents?: SdkEvent[] }).sdkEvents ?? []);
}

function named(list: SdkEvent[], name: string): SdkEvent[] {
  return list.filter((e) => e.name === name);
}

function messages(list: SdkEvent[], source: 'ai' | 'user'): string[] {
  return named(list, 'onMessage')
    .map((e) => e.arg as { source: string; message: string })
    .filter((m) => m.source === source)
    .map((m) => m.message);
}

describe('@elevenlabs/client against the local agent', () => {
  test('greeting, a turn answered, a barge-in interrupted, pings answered, and the agent ends the call (end_call, then 1000)', async () => {
    const { context, page, wire, refused, console: consoleLines, pageErrors } = await openPage();
    try {
      const conversationId = await startSession(page, {
        agentId: AGENT_ID,
        connectionType: 'websocket',
        origin: publicAgent.origin,
        overrides: { agent: { firstMessage: GREETING } },
      });
      expect(conversationId).toMatch(/^conv_/);
      expect(String(wire[0]!.message.url)).toMatch(
        new RegExp(
          `^${publicAgent.origin}/v1/convai/conversation\\?agent_id=${AGENT_ID}&source=js_sdk&version=`,
        ),
      );
      // The client's overrides first, the metadata as the server's first message.
      expect(wire.find((m) => m.direction === '>' && m.type !== '(open)')!.type).toBe(
        'conversation_initiation_client_data',
      );
      expect(wire.find((m) => m.direction === '<')!.message).toEqual({
        type: 'conversation_initiation_metadata',
        conversation_initiation_metadata_event: {
          conversation_id: conversationId,
          agent_output_audio_format: 'pcm_16000',
          user_input_audio_format: 'pcm_16000',
        },
      });

      await expect
        .poll(async () => named(await events(page), 'onDisconnect').length, { timeout: 90_000 })
        .toBe(1);
      const list = await events(page);
      // The agent ended it as the service does, with its end_call tool: the SDK reports the call
      // ended by the agent, shuts its microphone and closes with 1000.
      expect(named(list, 'onDisconnect')[0]!.arg).toMatchObject({
        reason: 'agent',
        context: { type: 'end_call' },
      });
      const last = wire.filter((m) => m.direction === '<' && m.type !== 'ping' && m.type !== 'audio').at(-1)!;
      expect(last.message).toMatchObject({
        type: 'agent_tool_response',
        agent_tool_response: { tool_name: 'end_call', tool_type: 'system', is_called: true },
      });

      // What the SDK showed: the greeting, the user's turns (no recogniser offline: how much
      // speech there was), the replies, and the goodbye last.
      const ai = messages(list, 'ai');
      expect(ai[0]).toBe(GREETING);
      expect(ai.filter((m) => m === REPLY_TEXT).length).toBeGreaterThanOrEqual(3);
      expect(ai.at(-1)).toBe(GOODBYE);
      const user = messages(list, 'user');
      expect(user.length).toBeGreaterThanOrEqual(3);
      for (const message of user) expect(message).toMatch(/^\(\d+\.\d s of speech\)$/);

      // The barge-in: the SDK's interruption, the agent's correction of what it had said, and the
      // player back to listening.
      const interruptions = named(list, 'onInterruption');
      expect(interruptions.length).toBeGreaterThan(0);
      // (Which response the microphone's speech lands in depends on where Chromium starts its
      // file: the greeting or a reply.)
      const corrections = named(list, 'onAgentResponseCorrection').map(
        (e) => e.arg as Record<string, string>,
      );
      expect(corrections.length).toBe(interruptions.length);
      for (const correction of corrections) {
        expect([GREETING, REPLY_TEXT]).toContain(correction.original_agent_response);
        expect(correction.original_agent_response!.startsWith(correction.corrected_agent_response!)).toBe(
          true,
        );
      }
      // At least one barge-in came before the end of the sentence: the agent takes back the rest.
      expect(
        corrections.some((c) => c.corrected_agent_response!.length < c.original_agent_response!.length),
      ).toBe(true);
      const modes = named(list, 'onModeChange').map((e) => (e.arg as { mode: string }).mode);
      expect(modes).toContain('speaking');
      expect(modes.lastIndexOf('listening')).toBeGreaterThan(modes.indexOf('speaking'));
      const interruptedAt = interruptions[0]!.t;
      expect(
        named(list, 'onModeChange').some(
          (e) => e.t >= interruptedAt && (e.arg as { mode: string }).mode === 'listening',
        ),
      ).toBe(true);

      // The greeting was heard: a level on the SDK's output between its first audio and the first turn.
      const levels = await page.evaluate(
        () => (window as unknown as { outputLevels: { t: number; rms: number }[] }).outputLevels,
      );
      const firstAudio = named(list, 'firstAudio')[0]!.t;
      const firstUser = named(list, 'onMessage').find(
        (e) => (e.arg as { source: string }).source === 'user',
      )!.t;
      const greeting = levels.filter((l) => l.t >= firstAudio && l.t <= firstUser);
      expect(Math.max(...greeting.map((l) => l.rms))).toBeGreaterThan(AUDIBLE_RMS);

      // Pings answered: every pong carries the id of a ping, and the agent counted them.
      const pings = wire.filter((m) => m.direction === '<' && m.type === 'ping');
      const pongs = wire.filter((m) => m.direction === '>' && m.type === 'pong');
      expect(pings.length).toBeGreaterThan(3);
      expect(pongs.length).toBeGreaterThan(3);
      const pingIds = new Set(pings.map((p) => (p.message.ping_event as { event_id: number }).event_id));
      for (const pong of pongs) expect(pingIds.has(pong.message.event_id as number)).toBe(true);
      expect((pings.at(-1)!.message.ping_event as { ping_ms: unknown }).ping_ms).toEqual(expect.any(Number));
      await expect.poll(() => agentLog.find((line) => line.includes(conversationId))).toBeDefined();
      const line = agentLog.find((l) => l.includes(conversationId))!;
      const counted = /pings=(\d+) pongs=(\d+)/.exec(line)!;
      expect(Number(counted[2])).toBeGreaterThan(3);
      expect(Number(counted[2])).toBeLessThanOrEqual(Number(counted[1]));
      expect(line).toMatch(/closed by (client|agent) 1000/);

      expect(named(list, 'onError')).toEqual([]);
      expect(named(list, 'onDebug')).toEqual([]);
      expect(wire.filter((m) => m.direction === '<' && m.type === 'error')).toEqual([]);
      expect(consoleLines).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(refused).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a private agent: a signed URL minted with xi-api-key opens it (in the format it announces); without a credential the SDK gets the refusal', async () => {
    const http = privateAgent.origin.replace('ws://', 'http://');
    const minted = await fetch(
      `${http}/v1/convai/conversation/get-signed-url?agent_id=private-agent&agent_output_audio_format=pcm_24000`,
      { headers: { 'xi-api-key': KEY } },
    );
    expect(minted.status).toBe(200);
    const { signed_url: signedUrl } = (await minted.json()) as { signed_url: string };
    expect(signedUrl).toMatch(/\/v1\/convai\/conversation\?agent_id=private-agent&conversation_signature=/);
    const unauthorised = await fetch(`${http}/v1/convai/conversation/get-signed-url?agent_id=private-agent`);
    expect(unauthorised.status).toBe(401);

    const { context, page, wire, console: consoleLines } = await openPage();
    try {
      const conversationId = await startSession(page, {
        signedUrl,
        connectionType: 'websocket',
        overrides: { agent: { firstMessage: 'Signed in.' } },
      });
      const metadata = wire.find((m) => m.direction === '<')!.message;
      expect(metadata.conversation_initiation_metadata_event).toMatchObject({
        conversation_id: conversationId,
        agent_output_audio_format: 'pcm_24000',
      });
      await expect
        .poll(async () => messages(await events(page), 'ai'), { timeout: 20_000 })
        .toEqual(['Signed in.']);
      // The greeting plays at the announced 24 kHz.
      await expect
        .poll(
          () =>
            page.evaluate(() =>
              Math.max(
                ...(window as unknown as { outputLevels: { rms: number }[] }).outputLevels.map((l) => l.rms),
              ),
            ),
          { timeout: 30_000 },
        )
        .toBeGreaterThan(AUDIBLE_RMS);
      // The user ends it.
      await page.evaluate(() =>
        (window as unknown as { conversation: { endSession(): Promise<void> } }).conversation.endSession(),
      );
      const ended = named(await events(page), 'onDisconnect');
      expect(ended).toHaveLength(1);
      expect(ended[0]!.arg).toMatchObject({ reason: 'user' });
      await expect
        .poll(() => agentLog.find((l) => l.includes(conversationId)))
        .toMatch(/closed by client 1000/);

      // No credential: the agent closes with a reason, which the SDK's startSession throws.
      const failure = await startSession(page, {
        agentId: 'private-agent',
        connectionType: 'websocket',
        origin: privateAgent.origin,
      }).then(
        () => 'connected',
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/Authentication required/);
      expect(consoleLines).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

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
