/**
 * OpenAI's own Realtime SDK (`@openai/agents-realtime`, the version pinned in package.json),
 * unmodified, holds conversations with the local agent over `ws://127.0.0.1:PORT/v1/realtime`:
 * its WebSocket transport in Node (it authenticates with `Authorization: Bearer`), speech from a
 * microphone paced at real time, and every server event checked against the SDK's own zod schema
 * (a delta that misses a field is silently not played, so a schema failure fails the test).
 */
import { OpenAIRealtimeWebSocket } from '@openai/agents-realtime';
import { afterAll, afterEach, beforeAll, describe, expect, onTestFailed, test, vi } from 'vitest';
import { rmsDb } from '../../../../testing/audio.ts';
import { REPLY_TEXT, wordPrefix } from '../../src/agent/response.ts';
import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '../../src/index.ts';
import { normalise, startPacedMicrophone } from './pacedMicrophone.ts';

const MODEL = 'gpt-realtime';
const KEY = 'sk-local-openai-sdk-test';
const GREETING = 'Hello from the local agent.';
const GOODBYE = 'That is all for now. Goodbye!';
const RATE = 24_000;

interface ServerSchema {
  safeParse(value: unknown): { success: boolean; error?: { message: string } };
}

type Event = Record<string, unknown> & { type: string };

let agent: LocalAgent;
let speech: Float32Array;
/** How long the reply's sentence is at 24 kHz: what `audio_end_ms` is measured against. */
let replySpeechMs: number;
let serverSchema: ServerSchema;
const agentLog: string[] = [];

beforeAll(async () => {
  agent = await startLocalAgent({ apiKeys: [KEY], greeting: GREETING, log: (line) => agentLog.push(line) });
  speech = normalise(await synthesizeSpeech('Testing one two three. Can you hear me?', { sampleRate: RATE }));
  replySpeechMs = ((await synthesizeSpeech(REPLY_TEXT, { sampleRate: RATE })).length / RATE) * 1000;
  // The SDK's own schema of server events (not in its exports map: loaded from its dist).
  const events = await import(
    new URL('../../node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs', import.meta.url).href
  );
  serverSchema = events.realtimeServerEventSchema as ServerSchema;
});

afterAll(async () => {
  await agent?.close();
});

let consoleOutput: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
});

/** A transport on the agent, with everything it emits and sends recorded. */
async function openTransport(query = '', apiKey = KEY) {
  consoleOutput = [];
  // The SDK logs its problems (a response.done it cannot parse, …) with console.error / warn.
  vi.spyOn(console, 'error').mockImplementation(
    (...args) => void consoleOutput.push(args.map(String).join(' ')),
  );
  vi.spyOn(console, 'warn').mockImplementation(
    (...args) => void consoleOutput.push(args.map(String).join(' ')),
  );
  const transport = new OpenAIRealtimeWebSocket({
    url: `${agent.origin}/v1/realtime?model=${MODEL}${query}`,
  });
  const received: Event[] = [];
  const invalid: string[] = [];
  const errors: unknown[] = [];
  const audio: { responseId: string; bytes: number; rmsDb: number; at: number }[] = [];
  const sent: Event[] = [];
  let interrupted = 0;
  const history = new Map<string, Record<string, unknown>>();
  const closed: { code?: number } = {};
  transport.on('*', (event: Event) => {
    received.push(
      event.type === 'response.output_audio.delta' ? { type: event.type, delta: '(audio)' } : event,
    );
    const parsed = serverSchema.safeParse(event);
    if (!parsed.success) invalid.push(`${event.type}: ${parsed.error?.message}`);
  });
  transport.on('error', (error: unknown) => errors.push(error));
  transport.on('audio', (event: { data: ArrayBuffer; responseId: string }) => {
    const pcm = new Int16Array(event.data);
    audio.push({
      responseId: event.responseId,
      bytes: event.data.byteLength,
      rmsDb: rmsDb(Float32Array.from(pcm, (s) => s / 32768)),
      at: performance.now(),
    });
  });
  transport.on('audio_interrupted', () => {
    interrupted++;
  });
  transport.on('item_update', (item: Record<string, unknown>) => history.set(String(item.itemId), item));
  onTestFailed(() => {
    console.log(
      `received:\n${collapse(received.map((e) => JSON.stringify(e).slice(0, 240)))}\nsent:\n${collapse(sent.map((e) => (e.type === 'input_audio_buffer.append' ? e.type : JSON.stringify(e).slice(0, 200))))}\nagent log:\n${agentLog.join('\n')}`,
    );
  });
  // A refused connection may close before connect() settles: that is for the test to judge.
  const failure = await transport.connect({ apiKey, model: MODEL }).then(
    () => undefined,
    (error: unknown) => error,
  );
  // What the SDK sends from now on, and how the socket closes, read off its `ws` socket.
  const ws = transport.connectionState.websocket as unknown as
    | {
        send(data: string, ...rest: unknown[]): void;
        on(event: 'close', listener: (code: number) => void): void;
      }
    | undefined;
  if (ws) {
    const send = ws.send.bind(ws);
    ws.send = (data: string, ...rest: unknown[]) => {
      sent.push(JSON.parse(data) as Event);
      send(data, ...rest);
    };
    ws.on('close', (code) => {
      closed.code = code;
    });
  }
  const of = (type: string) => received.filter((e) => e.type === type);
  return {
    transport,
    failure,
    received,
    invalid,
    errors,
    audio,
    sent,
    history,
    closed,
    of,
    get interrupted() {
      return interrupted;
    },
    audioMs: (responseId: string) =>
      (audio.filter((a) => a.responseId === responseId).reduce((n, a) => n + a.bytes, 0) / 2 / RATE) * 1000,
  };
}

/** Runs of the same line shown once with a count. */
function collapse(lines: string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    const last = out.length - 1;
    const match = last >= 0 ? /^(.*?)(?: ×(\d+))?$/.exec(out[last]!) : null;
    if (match && match[1] === line) out[last] = `${line} ×${Number(match[2] ?? 1) + 1}`;
    else out.push(line);
  }
  return out.join('\n');
}

function responseIdOf(event: Event): string {
  return String((event.response as Record<string, unknown>).id);
}

describe('@openai/agents-realtime against the local agent', () => {
  test('greeting on response.create, a spoken turn answered, barge-in truncated where it was heard, and the agent hangs up', async () => {
    const call = await openTransport('&hangupAfterTurns=1');
    const { transport, of } = call;
    const mic = startPacedMicrophone((pcm) => transport.sendAudio(pcm), RATE);
    try {
      await expect.poll(() => of('session.updated').length, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(of('session.created')).toHaveLength(1);
      expect(call.received[0]!.type).toBe('session.created');

      // The greeting: how an app makes the model speak first.
      transport.requestResponse();
      await expect.poll(() => of('response.done').length, { timeout: 20_000 }).toBe(1);
      const greeting = of('response.created')[0]!;
      const greetingId = responseIdOf(greeting);
      expect(of('response.output_audio_transcript.delta')[0]!.delta).toBe(GREETING);
      expect(of('response.output_audio_transcript.done')[0]!.transcript).toBe(GREETING);
      expect((of('response.done')[0]!.response as Record<string, unknown>).status).toBe('completed');
      // Its audio reached the SDK's `audio` event: speech, about as long as the sentence.
      expect(call.audioMs(greetingId)).toBeGreaterThan(1000);
      expect(
        Math.max(...call.audio.filter((a) => a.responseId === greetingId).map((a) => a.rmsDb)),
      ).toBeGreaterThan(-30);
      const greetingItem = (of('response.output_item.done')[0]!.item as Record<string, unknown>).id as string;
      expect(call.history.get(greetingItem)).toMatchObject({
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_audio', transcript: GREETING }],
      });

      // A spoken turn: the detector's events, the user's transcript, then the reply.
      mic.say(speech);
      await expect.poll(() => of('response.created').length, { timeout: 20_000 }).toBe(2);
      const started = of('input_audio_buffer.speech_started')[0]!;
      const stopped = of('input_audio_buffer.speech_stopped')[0]!;
      expect(stopped.item_id).toBe(started.item_id);
      expect(Number(stopped.audio_end_ms)).toBeGreaterThan(Number(started.audio_start_ms) + 1500);
      const transcript = of('conversation.item.input_audio_transcription.completed')[0]!;
      expect(transcript.item_id).toBe(started.item_id);
      expect(transcript.transcript).toMatch(/^\(\d+\.\d s of speech\)$/);
      // The SDK retrieved the user's item and put the transcript into its history.
      await expect
        .poll(
          () =>
            (call.history.get(String(started.item_id))?.content as { transcript?: string }[] | undefined)?.[0]
              ?.transcript,
        )
        .toBe(transcript.transcript);
      const reply = of('response.created')[1]!;
      const replyId = responseIdOf(reply);
      expect(of('response.output_audio_transcript.delta')[1]!.delta).toBe(REPLY_TEXT);

      // Barge-in half a second into the reply: the SDK cuts its playback and truncates the item.
      await expect.poll(() => call.audioMs(replyId), { timeout: 30_000 }).toBeGreaterThan(500);
      mic.say(speech);
      const replyItem = (of('response.output_item.added')[1]!.item as Record<string, unknown>).id as string;
      // (The greeting may have been truncated too, if the SDK's clock said it was still playing.)
      await expect
        .poll(() => of('conversation.item.truncated').find((e) => e.item_id === replyItem), {
          timeout: 30_000,
        })
        .toBeDefined();
      const truncate = call.sent.find(
        (e) => e.type === 'conversation.item.truncate' && e.item_id === replyItem,
      )!;
      expect(truncate).toMatchObject({ content_index: 0, audio_end_ms: expect.any(Number) });
      const truncated = of('conversation.item.truncated').find((e) => e.item_id === replyItem)!;
      expect(truncated).toMatchObject({ content_index: 0, audio_end_ms: truncate.audio_end_ms });
      expect(call.interrupted).toBeGreaterThan(0);
      const cancelled = of('response.done').find((e) => responseIdOf(e) === replyId)!;
      expect(cancelled.response).toMatchObject({
        status: 'cancelled',
        status_details: { type: 'cancelled', reason: 'turn_detected' },
      });
      // The agent keeps only what was heard: the SDK re-reads the item after the truncation.
      const heard = wordPrefix(REPLY_TEXT, Number(truncate.audio_end_ms) / replySpeechMs);
      await expect
        .poll(() =>
          of('conversation.item.retrieved').find((e) => (e.item as { id: string }).id === replyItem),
        )
        .toBeDefined();
      const retrieved = of('conversation.item.retrieved').find(
        (e) => (e.item as { id: string }).id === replyItem,
      )!;
      expect(retrieved.item).toMatchObject({
        status: 'incomplete',
        content: [{ type: 'output_audio', transcript: heard }],
      });
      expect(heard.length).toBeLessThan(REPLY_TEXT.length);

      // The interrupting speech is the next turn; its reply plays out, then the goodbye, then 1000.
      await expect.poll(() => call.closed.code, { timeout: 40_000 }).toBe(1000);
      const transcripts = of('response.output_audio_transcript.done').map((e) => e.transcript);
      expect(transcripts.slice(-2)).toEqual([REPLY_TEXT, GOODBYE]);
      expect(of('response.done').at(-1)!.response).toMatchObject({ status: 'completed' });
      expect(transport.status).toBe('disconnected');

      expect(call.invalid).toEqual([]);
      expect(call.errors).toEqual([]);
      expect(of('error')).toEqual([]);
      expect(consoleOutput).toEqual([]);
      // On the agent's side: the truncation, where it was heard, and a clean end.
      await expect.poll(() => agentLog.find((line) => line.includes('truncated='))).toBeDefined();
      const line = agentLog.find((l) => l.includes('truncated='))!;
      expect(line).toMatch(new RegExp(`truncated=(\\d+ms,)*${truncate.audio_end_ms}ms`));
      expect(line).toContain('closed by agent 1000');
    } finally {
      mic.stop();
      transport.close();
    }
  });

  test('push-to-talk (turn_detection: null): no detector events; commit and response.create get the reply; interrupt() cancels and truncates', async () => {
    const call = await openTransport();
    const { transport, of } = call;
    try {
      transport.updateSessionConfig({ audio: { input: { turnDetection: null } } });
      await expect
        .poll(() =>
          of('session.updated').find(
            (e) =>
              (e.session as { audio: { input: { turn_detection: unknown } } }).audio.input.turn_detection ===
              null,
          ),
        )
        .toBeDefined();
      // The whole utterance at once, then commit: what a push-to-talk button sends on release.
      const pcm = new Int16Array(speech.length);
      for (let i = 0; i < speech.length; i++) pcm[i] = Math.round(speech[i]! * 32767);
      transport.sendAudio(pcm.buffer, { commit: true });
      await expect
        .poll(() => of('conversation.item.input_audio_transcription.completed').length, { timeout: 30_000 })
        .toBe(1);
      const seconds = Number(
        /\((\d+\.\d) s/.exec(
          String(of('conversation.item.input_audio_transcription.completed')[0]!.transcript),
        )![1],
      );
      expect(seconds).toBeGreaterThan(1.5);
      expect(seconds).toBeLessThanOrEqual(speech.length / RATE + 0.1);
      expect(of('input_audio_buffer.committed')).toHaveLength(1);
      expect(of('input_audio_buffer.speech_started')).toEqual([]);
      expect(of('response.created')).toEqual([]);

      transport.requestResponse();
      await expect.poll(() => of('response.done').length, { timeout: 30_000 }).toBe(1);
      const replyId = responseIdOf(of('response.created')[0]!);
      expect(of('response.output_audio_transcript.done')[0]!.transcript).toBe(REPLY_TEXT);
      // The sentence, a pause, and the user's own utterance played back.
      expect(call.audioMs(replyId)).toBeGreaterThan(
        replySpeechMs + 250 + (speech.length / RATE) * 1000 * 0.9,
      );

      // The app stops the agent itself: response.cancel and the truncate.
      transport.sendAudio(pcm.buffer, { commit: true });
      transport.requestResponse();
      await expect.poll(() => of('response.created').length, { timeout: 20_000 }).toBe(2);
      const secondId = responseIdOf(of('response.created')[1]!);
      await expect.poll(() => call.audioMs(secondId), { timeout: 30_000 }).toBeGreaterThan(400);
      transport.interrupt();
      await expect.poll(() => of('response.done').length, { timeout: 30_000 }).toBe(2);
      expect(call.sent.map((e) => e.type)).toContain('response.cancel');
      expect(of('response.done')[1]!.response).toMatchObject({
        status: 'cancelled',
        status_details: { reason: 'client_cancelled' },
      });
      await expect.poll(() => of('conversation.item.truncated').length).toBe(1);
      expect(of('conversation.item.truncated')[0]!.audio_end_ms).toBe(
        call.sent.find((e) => e.type === 'conversation.item.truncate')!.audio_end_ms,
      );

      expect(call.invalid).toEqual([]);
      expect(call.errors).toEqual([]);
      expect(consoleOutput).toEqual([]);
    } finally {
      transport.close();
    }
  });

  test('an ephemeral key minted by POST /v1/realtime/client_secrets opens a session; an unknown one is refused with invalid_api_key and 1008', async () => {
    const http = agent.origin.replace('ws://', 'http://');
    const minted = await fetch(`${http}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        expires_after: { anchor: 'created_at', seconds: 60 },
        session: { type: 'realtime', model: MODEL },
      }),
    });
    expect(minted.status).toBe(200);
    const secret = (await minted.json()) as { value: string; expires_at: number; session: { model: string } };
    expect(secret.value).toMatch(/^ek_/);
    expect(secret.expires_at).toBeGreaterThan(Date.now() / 1000 + 50);
    expect(secret.session.model).toBe(MODEL);
    const refused = await fetch(`${http}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-wrong' },
    });
    expect(refused.status).toBe(401);

    const good = await openTransport('', secret.value);
    expect(good.failure).toBeUndefined();
    try {
      await expect.poll(() => good.of('session.updated').length, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(good.of('error')).toEqual([]);
    } finally {
      good.transport.close();
    }

    const bad = await openTransport('', 'ek_not-minted-here');
    await expect
      .poll(() => bad.closed.code ?? (bad.transport.status === 'disconnected' ? -1 : undefined), {
        timeout: 30_000,
      })
      .toBeDefined();
    expect(bad.of('error')[0]).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_api_key' },
    });
    expect(bad.of('session.created')).toEqual([]);
    expect(bad.invalid).toEqual([]);
  });
});
