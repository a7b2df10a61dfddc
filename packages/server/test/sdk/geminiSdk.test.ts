/**
 * Google's own Gen AI SDK (`@google/genai`, the version pinned in package.json), unmodified, holds
 * Gemini Live sessions with the local agent: `ai.live.connect()` with `httpOptions.baseUrl`
 * pointed at it (the SDK turns http into ws and builds the BidiGenerateContent path), speech from
 * a microphone paced at real time as `sendRealtimeInput({ audio })`, the model's audio and
 * transcriptions through `onmessage`. The SDK does not validate messages; it reports its
 * problems on the console, which the tests watch.
 */
import { GoogleGenAI, type LiveServerMessage, Modality, type Session } from '@google/genai';
import { encodeBase64 } from '@voicewire/core';
import { afterAll, afterEach, beforeAll, describe, expect, onTestFailed, test, vi } from 'vitest';
import { rmsDb } from '../../../../testing/audio.ts';
import { REPLY_TEXT } from '../../src/agent/response.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { normalise, startPacedMicrophone } from './pacedMicrophone.ts';

const MODEL = 'gemini-live-2.5-flash-preview';
const KEY = 'gemini-local-sdk-test';
const GREETING = 'Hello from the local agent.';
const GOODBYE = 'That is all for now. Goodbye!';
const IN_RATE = 16_000;
const OUT_RATE = 24_000;
/** A connection's life on the agent that tests goAway and resumption. */
const LIFETIME_MS = 3_000;

let agent: LocalAgent;
let shortLived: LocalAgent;
let speech: Float32Array;
const agentLog: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({
    apiKeys: [KEY],
    greeting: GREETING,
    hangupAfterTurns: 1,
    log: (line) => agentLog.push(line),
  });
  shortLived = await startLocalAgent({
    apiKeys: [KEY],
    greeting: '',
    gemini: { connectionLifetimeMs: LIFETIME_MS },
    log: (line) => agentLog.push(line),
  });
  speech = normalise(
    await synthesizeSpeech('Testing one two three. Can you hear me?', { sampleRate: IN_RATE }),
  );
});

afterAll(async () => {
  await agent?.close();
  await shortLived?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

let consoleOutput: string[] = [];

/** One model turn as the SDK delivered it: its audio, transcription pieces and how it ended. */
interface Turn {
  pcm: Int16Array[];
  transcript: string[];
  finished: boolean;
  end?: 'turnComplete' | 'interrupted';
}

interface Call {
  session: Session;
  /** The `inlineData.mimeType` of every audio part. */
  mimeTypes: Set<string>;
  messages: LiveServerMessage[];
  turns: Turn[];
  closed: { code?: number; reason?: string };
  errors: unknown[];
  of(field: keyof LiveServerMessage): LiveServerMessage[];
  audioMs(turn: Turn | undefined): number;
}

async function connect(
  options: {
    target?: LocalAgent;
    apiKey?: string;
    apiVersion?: string;
    config?: Record<string, unknown>;
  } = {},
): Promise<Call> {
  const target = options.target ?? agent;
  consoleOutput = [];
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args) => void consoleOutput.push(args.map(String).join(' ')),
    );
  }
  const ai = new GoogleGenAI({
    apiKey: options.apiKey ?? KEY,
    httpOptions: {
      baseUrl: target.origin.replace('ws://', 'http://'),
      ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
    },
  });
  const messages: LiveServerMessage[] = [];
  const turns: Turn[] = [];
  const closed: Call['closed'] = {};
  const errors: unknown[] = [];
  const mimeTypes = new Set<string>();
  let open: Turn | undefined;
  const current = (): Turn => {
    open ??= { pcm: [], transcript: [], finished: false };
    if (!turns.includes(open)) turns.push(open);
    return open;
  };
  onTestFailed(() => {
    const shown = messages.map((m) =>
      m.serverContent?.modelTurn ? '(audio)' : JSON.stringify(m).slice(0, 200),
    );
    console.info(`received:\n${shown.join('\n')}\nagent log:\n${agentLog.join('\n')}`);
  });
  const session = await ai.live.connect({
    model: MODEL,
    config: {
      responseModalities: [Modality.AUDIO],
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: {},
      ...options.config,
    },
    callbacks: {
      onmessage: (message) => {
        messages.push(message);
        const content = message.serverContent;
        if (!content) return;
        for (const part of content.modelTurn?.parts ?? []) {
          const data = part.inlineData?.data;
          mimeTypes.add(String(part.inlineData?.mimeType));
          if (data) {
            const bytes = Buffer.from(data, 'base64');
            current().pcm.push(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
          }
        }
        if (content.outputTranscription) {
          const turn = current();
          turn.transcript.push(content.outputTranscription.text ?? '');
          turn.finished ||= content.outputTranscription.finished === true;
        }
        if (content.interrupted && open) open.end = 'interrupted';
        if (content.turnComplete) {
          if (open && open.end === undefined) open.end = 'turnComplete';
          open = undefined;
        }
      },
      onerror: (error) => errors.push(error),
      onclose: (event) => {
        closed.code = event.code;
        closed.reason = event.reason;
      },
    },
  });
  return {
    session,
    mimeTypes,
    messages,
    turns,
    closed,
    errors,
    of: (field) => messages.filter((m) => m[field] !== undefined),
    audioMs: (turn) => ((turn?.pcm.reduce((n, p) => n + p.length, 0) ?? 0) / OUT_RATE) * 1000,
  };
}

function text(turn: Turn | undefined): string {
  return turn?.transcript.join('') ?? '';
}

function levelDb(turn: Turn): number {
  const all = Float32Array.from(
    turn.pcm.flatMap((p) => Array.from(p)),
    (s) => s / 32768,
  );
  return rmsDb(all);
}

describe('@google/genai Live against the local agent', () => {
  test('the greeting, a spoken turn answered, barge-in interrupted, and the agent hangs up with 1000', async () => {
    const call = await connect();
    const { session } = call;
    const mic = startPacedMicrophone(
      (pcm) =>
        session.sendRealtimeInput({
          audio: { data: encodeBase64(new Uint8Array(pcm)), mimeType: `audio/pcm;rate=${IN_RATE}` },
        }),
      IN_RATE,
    );
    try {
      const setup = call.of('setupComplete')[0]!;
      expect(setup.setupComplete?.sessionId).toMatch(/^conv_/);

      // The greeting: audio (speech, about as long as the sentence) and its transcription.
      await expect.poll(() => call.turns[0]?.end, { timeout: 30_000 }).toBe('turnComplete');
      const greeting = call.turns[0]!;
      expect(text(greeting)).toBe(GREETING);
      expect(greeting.transcript.length).toBeGreaterThan(1);
      expect(greeting.finished).toBe(true);
      expect(call.audioMs(greeting)).toBeGreaterThan(1000);
      expect(levelDb(greeting)).toBeGreaterThan(-30);
      expect([...call.mimeTypes]).toEqual([`audio/pcm;rate=${OUT_RATE}`]);
      expect(call.of('sessionResumptionUpdate').at(-1)?.sessionResumptionUpdate).toEqual({
        newHandle: expect.stringMatching(/^conv_.+\.\d+$/),
        resumable: true,
      });

      // A spoken turn: transcribed (no recogniser offline: its length), then answered.
      mic.say(speech);
      await expect
        .poll(() => call.of('serverContent').find((m) => m.serverContent?.inputTranscription), {
          timeout: 20_000,
        })
        .toBeDefined();
      const heard = call.of('serverContent').find((m) => m.serverContent?.inputTranscription)!;
      expect(heard.serverContent!.inputTranscription).toEqual({
        text: expect.stringMatching(/^\(\d+\.\d s of speech\)$/),
        finished: true,
      });
      await expect.poll(() => text(call.turns[1]), { timeout: 20_000 }).toContain('Here');

      // Barge-in half a second into the reply: the turn is interrupted, then complete.
      await expect.poll(() => call.audioMs(call.turns[1]), { timeout: 10_000 }).toBeGreaterThan(500);
      mic.say(speech);
      await expect.poll(() => call.turns[1]!.end, { timeout: 10_000 }).toBe('interrupted');
      const cut = call.messages.findIndex((m) => m.serverContent?.interrupted === true);
      expect(call.messages[cut + 1]?.serverContent?.turnComplete).toBe(true);
      expect(text(call.turns[1]).length).toBeLessThan(REPLY_TEXT.length);

      // The interrupting speech is the next turn; its reply plays out, then the goodbye, then 1000.
      await expect.poll(() => call.closed.code, { timeout: 60_000 }).toBe(1000);
      const lastTwo = call.turns.slice(-2);
      expect(lastTwo.map(text)).toEqual([REPLY_TEXT, GOODBYE]);
      expect(lastTwo.map((t) => t.end)).toEqual(['turnComplete', 'turnComplete']);
      // The reply: its sentence, a pause, and the user's own speech played back.
      expect(call.audioMs(lastTwo[0])).toBeGreaterThan((speech.length / IN_RATE) * 1000);
      expect(call.of('goAway')).toEqual([]);
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
      await expect.poll(() => agentLog.find((l) => l.includes('BidiGenerateContent'))).toBeDefined();
      expect(agentLog.find((l) => l.includes('BidiGenerateContent'))).toContain('closed by agent 1000');
    } finally {
      mic.stop();
      session.close();
    }
  });

  test('goAway before the server closes a connection; the session resumes with the last handle, without a greeting', async () => {
    const first = await connect({ target: shortLived });
    await expect.poll(() => first.of('goAway').length, { timeout: 10_000 }).toBe(1);
    expect(first.of('goAway')[0]!.goAway).toEqual({ timeLeft: `${LIFETIME_MS / 2 / 1000}s` });
    await expect.poll(() => first.closed.code, { timeout: 10_000 }).toBe(1011);
    expect(first.closed.reason).toBe('Deadline expired before operation could complete.');
    const handle = first.of('sessionResumptionUpdate').at(-1)!.sessionResumptionUpdate!.newHandle!;
    const sessionId = first.of('setupComplete')[0]!.setupComplete!.sessionId;

    const second = await connect({ target: shortLived, config: { sessionResumption: { handle } } });
    try {
      expect(second.of('setupComplete')[0]!.setupComplete!.sessionId).toBe(sessionId);
      // Text in the resumed session is answered.
      second.session.sendClientContent({ turns: 'Are you still there?' });
      await expect.poll(() => second.turns[0]?.end, { timeout: 30_000 }).toBe('turnComplete');
      expect(text(second.turns[0])).toBe('You wrote: Are you still there?');
      expect(second.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      second.session.close();
    }

    // A handle of no session of this agent's is refused: connect() rejects with the close.
    await expect(
      connect({ target: shortLived, config: { sessionResumption: { handle: 'conv_unknown.1' } } }),
    ).rejects.toThrow(/1008.*handle is invalid/);
  });

  test('push-to-talk (automatic activity detection disabled): activityStart, audio, activityEnd get the answer', async () => {
    const call = await connect({
      config: { realtimeInputConfig: { automaticActivityDetection: { disabled: true } } },
    });
    const { session } = call;
    try {
      await expect.poll(() => call.turns[0]?.end, { timeout: 30_000 }).toBe('turnComplete');
      session.sendRealtimeInput({ activityStart: {} });
      const pcm = new Int16Array(speech.length);
      for (let i = 0; i < speech.length; i++) pcm[i] = Math.round(speech[i]! * 32767);
      const bytes = new Uint8Array(pcm.buffer);
      for (let offset = 0; offset < bytes.length; offset += 3200) {
        session.sendRealtimeInput({
          audio: {
            data: encodeBase64(bytes.subarray(offset, offset + 3200)),
            mimeType: 'audio/pcm;rate=16000',
          },
        });
      }
      session.sendRealtimeInput({ activityEnd: {} });
      await expect.poll(() => call.turns[1]?.end, { timeout: 30_000 }).toBe('turnComplete');
      expect(text(call.turns[1])).toBe(REPLY_TEXT);
      const seconds = Number(
        /\((\d+\.\d) s/.exec(
          String(
            call.of('serverContent').find((m) => m.serverContent?.inputTranscription)!.serverContent!
              .inputTranscription!.text,
          ),
        )![1],
      );
      expect(seconds).toBeGreaterThan(1.5);
      expect(seconds).toBeLessThanOrEqual(speech.length / IN_RATE + 0.1);
      expect(call.messages.some((m) => m.serverContent?.interrupted)).toBe(false);
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      session.close();
    }
  });

  test('ephemeral tokens from ai.authTokens.create() open one session on the v1alpha constrained endpoint; keys are checked', async () => {
    const minter = new GoogleGenAI({
      apiKey: KEY,
      httpOptions: { baseUrl: agent.origin.replace('ws://', 'http://'), apiVersion: 'v1alpha' },
    });
    const token = await minter.authTokens.create({ config: { uses: 1 } });
    expect(token.name).toMatch(/^auth_tokens\//);
    expect(Date.parse(String(token.expireTime))).toBeGreaterThan(Date.now() + 25 * 60_000);

    const call = await connect({ apiKey: token.name, apiVersion: 'v1alpha' });
    try {
      expect(call.of('setupComplete')).toHaveLength(1);
      // The SDK says ephemeral tokens are experimental; nothing else.
      expect(consoleOutput).toEqual([
        'Warning: Ephemeral token support is experimental and may change in future versions.',
      ]);
    } finally {
      call.session.close();
    }
    await expect.poll(() => agentLog.some((l) => l.includes('BidiGenerateContentConstrained'))).toBe(true);
    // Its one use is spent.
    await expect(connect({ apiKey: token.name, apiVersion: 'v1alpha' })).rejects.toThrow(
      /1008.*no uses left/,
    );
    await expect(connect({ apiKey: 'not-a-key-of-this-agent' })).rejects.toThrow(/1007.*API key not valid/);
  });
});
