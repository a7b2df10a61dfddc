/**
 * The conversation with `geminiLive()` against a real WebSocket server on 127.0.0.1 playing Gemini
 * Live's side as the Gemini API does (docs/providers.md). What the client sends is compared with
 * what Google's own SDK (`@google/genai`) sends for the same actions, on the same server. The
 * audio engine is faked (Node has no microphone): what goes on the wire is real.
 */
import { GoogleGenAI, Modality } from '@google/genai';
import { decodeBase64, encodeBase64 } from '@voicewire/core';
import { geminiLive } from '@voicewire/core/gemini';
import { describe, expect, it } from 'vitest';
import { until, useVendorServer, type VendorServer } from './vendorServer.ts';

const PATH = '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent';
const MODEL = 'gemini-live-2.5-flash-preview';

let vendor: VendorServer;
const { call } = useVendorServer({
  path: PATH,
  apiKey: 'k-test',
  provider: () => geminiLive({ systemInstruction: 'Be brief.', voice: 'Kore' }),
  onServer: (server) => {
    vendor = server;
  },
});

/** The server's side of the opening: `setupComplete` once the `setup` arrived. */
async function open(conversation: ReturnType<typeof call>['conversation'], socket = 1) {
  const started = conversation.start();
  await vendor.connections(socket);
  await until(() => vendor.json().some((m) => m.setup !== undefined), 'the setup');
  vendor.send({ setupComplete: { sessionId: 'session-1' } });
  await started;
}

/** 16-bit PCM of a tone at 24 kHz: what Gemini sends in `inlineData`. */
function pcm16(ms: number): Uint8Array {
  const samples = Math.round((24_000 * ms) / 1000);
  const bytes = new Uint8Array(samples * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples; i++) view.setInt16(i * 2, Math.round(8000 * Math.sin(i / 5)), true);
  return bytes;
}

const modelTurn = (bytes: Uint8Array) => ({
  serverContent: {
    modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: encodeBase64(bytes) } }] },
  },
});
const said = (text: string) => ({ serverContent: { outputTranscription: { text } } });
const heard = (text: string, finished?: boolean) => ({
  serverContent: { inputTranscription: finished === undefined ? { text } : { text, finished } },
});

/** A frame of PCM with its own content (the capture recycles its buffer). */
const micFrame = (seed: number) => new Uint8Array(640).map((_, i) => (i * 7 + seed) & 0xff);

describe('geminiLive', () => {
  it("sends what Google's SDK sends: URL, setup, audio, text and the end of a held turn", async () => {
    // Google's SDK, pointed at the same server, connects and does the same things.
    const ai = new GoogleGenAI({
      apiKey: 'k-test',
      httpOptions: { baseUrl: vendor.origin.replace('ws:', 'http:') },
    });
    const connecting = ai.live.connect({
      model: MODEL,
      config: {
        responseModalities: [Modality.AUDIO],
        systemInstruction: 'Be brief.',
        speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
        sessionResumption: {},
        inputAudioTranscription: {},
        outputAudioTranscription: {},
      },
      callbacks: { onmessage: () => {} },
    });
    await vendor.connections(1);
    await until(() => vendor.json().length === 1, "the SDK's setup");
    vendor.send({ setupComplete: {} });
    const session = await connecting;
    session.sendRealtimeInput({
      audio: { data: encodeBase64(micFrame(1)), mimeType: 'audio/pcm;rate=16000' },
    });
    session.sendClientContent({ turns: 'Spell it.' });
    session.sendRealtimeInput({ audioStreamEnd: true });
    await until(() => vendor.json().length === 4, "the SDK's frames");
    const sdk = { handshake: vendor.handshakes[0]!, frames: vendor.json() };
    session.close();

    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation, 2);
    conversation.pressToTalk();
    audio.capture!.emitFrame(micFrame(1));
    conversation.sendCustomInput('Spell it.');
    conversation.releaseToTalk();
    audio.capture!.emitFrames(10);
    await until(() => vendor.json().length === 4, 'the frames');
    const ours = vendor.handshakes[1]!;
    // The SDK joins its base URL's trailing slash and `/ws/…` into `//ws/…`; the server takes both.
    expect(sdk.handshake.path).toBe(`/${PATH}`);
    expect(ours.path).toBe(PATH);
    expect(ours.query.get('key')).toBe('k-test');
    expect([...ours.query.keys()]).toEqual([...sdk.handshake.query.keys()]);
    expect(ours.protocols).toEqual(sdk.handshake.protocols);
    expect(vendor.json()).toEqual(sdk.frames);
    expect(vendor.json()[0]).toEqual({
      setup: {
        model: `models/${MODEL}`,
        generationConfig: {
          responseModalities: ['AUDIO'],
          speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
        },
        systemInstruction: { parts: [{ text: 'Be brief.' }], role: 'user' },
        sessionResumption: {},
        inputAudioTranscription: {},
        outputAudioTranscription: {},
      },
    });
    // Nothing after the release: the end of the audio stream closes the turn, no run of silence.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.received).toHaveLength(4);
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', conversationId: 'session-1' });
  });

  it('an ephemeral token goes to the v1alpha Constrained endpoint as access_token, as the SDK sends it', async () => {
    const ai = new GoogleGenAI({
      apiKey: 'auth_tokens/abc',
      httpOptions: { baseUrl: vendor.origin.replace('ws:', 'http:'), apiVersion: 'v1alpha' },
    });
    const warn = console.warn;
    console.warn = () => {};
    const connecting = ai.live.connect({ model: MODEL, config: {}, callbacks: { onmessage: () => {} } });
    await vendor.connections(1);
    await until(() => vendor.json().length === 1, "the SDK's setup");
    vendor.send({ setupComplete: {} });
    (await connecting).close();
    console.warn = warn;

    const { conversation } = call({ apiKey: undefined, getToken: () => 'auth_tokens/abc' });
    await open(conversation, 2);
    const [sdk, ours] = vendor.handshakes;
    expect(ours!.path).toBe(
      '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained',
    );
    expect(`/${ours!.path}`).toBe(sdk!.path);
    expect(ours!.query.get('access_token')).toBe('auth_tokens/abc');
    expect(ours!.query.get('access_token')).toBe(sdk!.query.get('access_token'));
    expect(ours!.query.has('key')).toBe(false);
    await conversation.stop();

    // A relay session token goes as `?token=`, at the URL given, whose own query is kept.
    const relayed = call({
      apiKey: undefined,
      token: 'relay.token',
      url: `${vendor.origin}${PATH}/?fault=drop:5000`,
    });
    await open(relayed.conversation, 3);
    expect(vendor.handshakes[2]!.path).toBe(PATH);
    expect([...vendor.handshakes[2]!.query]).toEqual([
      ['fault', 'drop:5000'],
      ['token', 'relay.token'],
    ]);
  });

  it('streams the microphone as realtimeInput.audio of 16 kHz PCM16, only once set up', async () => {
    const { conversation, audio } = call();
    const started = conversation.start();
    await vendor.connections(1);
    await until(
      () => audio.capture !== undefined && vendor.received.length === 1,
      'the capture and the setup',
    );
    expect(audio.capture).toMatchObject({ sampleRate: 16000, encoding: 'linear16' });
    audio.capture!.emitFrames(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Only the setup: audio waits for setupComplete.
    expect(vendor.received).toHaveLength(1);
    vendor.send({ setupComplete: {} });
    await started;
    audio.capture!.emitFrame(micFrame(3));
    audio.capture!.emitFrame(micFrame(4));
    await until(() => vendor.json().length === 5, 'the frames');
    // Text frames of base64: 20 ms at 16 kHz, two bytes a sample, each with its own content.
    expect(vendor.received.every((frame) => 'text' in frame)).toBe(true);
    const inputs = vendor.json().slice(3) as {
      realtimeInput: { audio: { data: string; mimeType: string } };
    }[];
    expect(inputs.map((m) => m.realtimeInput.audio.mimeType)).toEqual([
      'audio/pcm;rate=16000',
      'audio/pcm;rate=16000',
    ]);
    expect(decodeBase64(inputs[0]!.realtimeInput.audio.data)).toEqual(micFrame(3));
    expect(decodeBase64(inputs[1]!.realtimeInput.audio.data)).toEqual(micFrame(4));
  });

  it("plays the model's turns as 24 kHz PCM16 streams and writes both transcripts in pieces", async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(heard('What is '));
    vendor.send(heard('the time?', true));
    vendor.send(modelTurn(pcm16(40)));
    vendor.send(said('It is '));
    // Google sends JSON in binary frames too.
    vendor.send(new TextEncoder().encode(JSON.stringify(modelTurn(pcm16(40)))));
    vendor.send(said('noon.'));
    // All of the turn was generated: the utterance ends (turnComplete waits for its playback).
    vendor.send({ serverContent: { generationComplete: true } });
    await until(() => audio.player?.calls.includes('endStream') === true, 'the end of the utterance');
    vendor.send({ serverContent: { turnComplete: true } });
    expect(audio.player!.options).toMatchObject({ format: 'pcm16', sampleRate: 24000 });
    expect(audio.player!.enqueued.map((b) => b.length)).toEqual([1920, 1920]);
    expect(audio.player!.enqueued[0]).toEqual(pcm16(40));
    await until(() => conversation.store.getState().transcript.length === 2, 'two turns');
    expect(conversation.store.getState().transcript.map((t) => [t.role, t.text])).toEqual([
      ['user', 'What is the time?'],
      ['agent', 'It is noon.'],
    ]);
    // The next reply is a new stream and a new turn, even without the user in between.
    vendor.send(modelTurn(pcm16(20)));
    vendor.send(said('Anything else?'));
    vendor.send({ serverContent: { generationComplete: true, turnComplete: true } });
    await until(() => conversation.store.getState().transcript.length === 3, 'the third turn');
    expect(conversation.store.getState().transcript[2]).toMatchObject({
      role: 'agent',
      text: 'Anything else?',
    });
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(2);
    expect(audio.player!.calls.filter((c) => c === 'endStream')).toHaveLength(2);
    // A finished transcription closes the user's turn: the next words are another one.
    vendor.send(heard('Thanks.', true));
    vendor.send(heard('Bye.', true));
    await until(() => conversation.store.getState().transcript.length === 5, 'two user turns');
    expect(
      conversation.store
        .getState()
        .transcript.slice(3)
        .map((t) => t.text),
    ).toEqual(['Thanks.', 'Bye.']);
  });

  it('interrupted: the agent is silenced at once, the transcript cut to what was heard, the rest dropped', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send(modelTurn(pcm16(100)));
    vendor.send(said('One two three four five six seven eight.'));
    await until(() => audio.player?.enqueued.length === 1, 'the audio');
    audio.player!.emitStarted();
    audio.player!.setPlayedMs(1234);
    audio.player!.setStats({ bufferedMs: 1234 });
    vendor.send({ serverContent: { interrupted: true } });
    await until(() => audio.player!.calls.includes('interrupt'), 'the interrupt');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    expect(conversation.store.getState().transcript[0]).toMatchObject({
      text: 'One two three four',
      interrupted: true,
    });
    // The cut turn's late transcript is dropped; its turnComplete closes it.
    vendor.send(said(' nine ten.'));
    vendor.send({ serverContent: { turnComplete: true } });
    vendor.send(heard('Stop.'));
    await until(() => conversation.store.getState().transcript.length === 2, 'the user turn');
    expect(conversation.store.getState().transcript[0]!.text).toBe('One two three four');
    // The answer plays as a new stream.
    const before = audio.player!.calls.filter((c) => c === 'newStream').length;
    vendor.send(modelTurn(pcm16(20)));
    vendor.send(said('Sure.'));
    await until(() => conversation.store.getState().transcript.length === 3, 'the answer');
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(before + 1);
    expect(audio.player!.enqueued).toHaveLength(2);
  });

  it('push-to-talk pressed over the agent: silenced locally, the rest of that turn never plays', async () => {
    const { conversation, audio } = call({ turnTaking: 'pushToTalk' });
    await open(conversation);
    vendor.send(modelTurn(pcm16(100)));
    await until(() => audio.player?.enqueued.length === 1, 'the audio');
    audio.player!.emitStarted();
    conversation.pressToTalk();
    expect(audio.player!.calls).toContain('interrupt');
    audio.capture!.emitFrames(3);
    // More of the cut turn arrives before the server hears the user.
    vendor.send(modelTurn(pcm16(100)));
    conversation.releaseToTalk();
    await until(
      () =>
        vendor.json().some((m) => (m.realtimeInput as { audioStreamEnd?: boolean })?.audioStreamEnd === true),
      'the end of the audio stream',
    );
    expect(vendor.json().filter((m) => (m.realtimeInput as { audio?: unknown })?.audio)).toHaveLength(3);
    expect(audio.player!.enqueued).toHaveLength(1);
  });

  it('a dropped connection resumes with the newest handle; the call goes on', async () => {
    const disconnects: unknown[] = [];
    const { conversation, audio } = call({
      reconnect: { initialDelayMs: 1 },
      onDisconnect: (r) => disconnects.push(r),
    });
    await open(conversation);
    vendor.send({ sessionResumptionUpdate: { newHandle: 'handle-1', resumable: true } });
    vendor.send({ sessionResumptionUpdate: { newHandle: 'handle-2', resumable: true } });
    // Not resumable at this point: its handle is not taken, the last good one stays.
    vendor.send({ sessionResumptionUpdate: { newHandle: 'handle-3', resumable: false } });
    vendor.send(said('Hello.'));
    vendor.send({ serverContent: { turnComplete: true } });
    await until(() => conversation.store.getState().transcript.length === 1, 'the transcript');
    vendor.drop();
    await vendor.connections(2);
    await until(() => vendor.json().length === 1, 'the second setup');
    expect((vendor.json()[0]!.setup as Record<string, unknown>).sessionResumption).toEqual({
      handle: 'handle-2',
    });
    expect(vendor.handshakes[1]!.query.get('key')).toBe('k-test');
    vendor.send({ setupComplete: {} });
    await until(() => conversation.store.getState().status === 'connected', 'connected again');
    expect(conversation.store.getState().conversationId).toBe('session-1');
    expect(conversation.store.getState().transcript).toHaveLength(1);
    audio.capture!.emitFrame(micFrame(5));
    await until(() => vendor.json().length === 2, 'audio on the new socket');
    // Google's internal error resumes too.
    vendor.send({ sessionResumptionUpdate: { newHandle: 'handle-4', resumable: true } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    vendor.close(1011, 'Internal error encountered.');
    await vendor.connections(3);
    await until(() => vendor.json().length === 1, 'the third setup');
    expect((vendor.json()[0]!.setup as Record<string, unknown>).sessionResumption).toEqual({
      handle: 'handle-4',
    });
    expect(disconnects).toEqual([]);
  });

  it("Google's internal error (1011) not resumed (reconnect off): the call ends with a server error saying so, not that it resumes", async () => {
    const { conversation } = call();
    await open(conversation);
    vendor.send({ sessionResumptionUpdate: { newHandle: 'h-1', resumable: true } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    vendor.close(1011, 'Internal error encountered.');
    await until(() => conversation.store.getState().status === 'error', 'the end');
    expect(conversation.store.getState().error).toEqual({
      kind: 'server-error',
      code: 1011,
      message: 'Gemini Live failed (close code 1011: Internal error encountered.).',
      fatal: true,
    });
  });

  it('goAway then a normal close resumes too; without a handle a drop ends it, saying why', async () => {
    const { conversation } = call({ reconnect: { initialDelayMs: 1 } });
    await open(conversation);
    vendor.send({ sessionResumptionUpdate: { newHandle: 'h-9', resumable: true } });
    vendor.send({ goAway: { timeLeft: '10s' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    vendor.close(1000);
    await vendor.connections(2);
    await until(() => vendor.json().length === 1, 'the second setup');
    expect((vendor.json()[0]!.setup as Record<string, unknown>).sessionResumption).toEqual({ handle: 'h-9' });
    await conversation.stop();

    const fresh = call({ reconnect: { initialDelayMs: 1 } });
    await open(fresh.conversation, 3);
    vendor.drop();
    await until(() => fresh.conversation.store.getState().status === 'ended', 'the end');
    expect(fresh.conversation.store.getState().error).toMatchObject({ kind: 'network', fatal: true });
    expect(fresh.conversation.store.getState().error?.message).toMatch(/no session to resume/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vendor.handshakes).toHaveLength(3);
  });

  it('a normal close ends the call as the agent; a refusal fails it with the reason', async () => {
    const disconnects: unknown[] = [];
    const ended = call({ onDisconnect: (r) => disconnects.push(r) });
    await open(ended.conversation);
    vendor.close(1000);
    await until(() => ended.conversation.store.getState().status === 'ended', 'the end');
    expect(ended.conversation.store.getState().error).toBeNull();
    expect(disconnects).toEqual([{ by: 'agent', closeCode: 1000 }]);

    const refused = call({ reconnect: { initialDelayMs: 1 } });
    const started = refused.conversation.start();
    await vendor.connections(2);
    await until(() => vendor.json().length === 1, 'the setup');
    vendor.close(1008, 'API key not valid. Please pass a valid API key.');
    await started;
    expect(refused.conversation.store.getState()).toMatchObject({ status: 'error' });
    expect(refused.conversation.store.getState().error).toMatchObject({ kind: 'unauthorized', code: 1008 });
    expect(refused.conversation.store.getState().error?.message).toMatch(/API key not valid/);
  });

  it('malformed frames are reported, never thrown; the call goes on', async () => {
    const errors: unknown[] = [];
    const { conversation, audio } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send('not json');
    vendor.send('[1, 2]');
    vendor.send(new Uint8Array([0xff, 0xfe, 0x00]));
    vendor.send({
      serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm', data: '***' } }] } },
    });
    vendor.send({ serverContent: { modelTurn: { parts: 'nope' }, interrupted: 'yes' } });
    vendor.send({ sessionResumptionUpdate: null, goAway: undefined, toolCall: { functionCalls: [] } });
    await until(() => errors.length === 4, 'four errors');
    expect(errors.every((e) => (e as { kind: string }).kind === 'protocol')).toBe(true);
    expect(conversation.store.getState().status).toBe('connected');
    vendor.send(modelTurn(pcm16(20)));
    await until(() => audio.player?.enqueued.length === 1, 'audio after the junk');
  });
});
