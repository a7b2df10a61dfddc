import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { audioBytes, connect, type TestClient } from './client.ts';
import { correlation, decodeOutput, envelope, levelDb } from './decode.ts';
import { frames, sendInRealTime, silence, wavFrames } from './input.ts';

const SILENCE_MS = 400;
const UTTERANCE = 'Testing one two three.';

let agent: LocalAgent;
beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, log: false, silenceMs: SILENCE_MS });
});
afterAll(() => agent.close());

async function open(setup: Record<string, unknown>): Promise<TestClient> {
  const client = await connect(`${agent.url}/listener`);
  client.send({ type: 'setup', apiKey: 'k', customGreeting: '', ...setup });
  await client.waitFor('init');
  return client;
}

/** The reply's audio after the stock sentence: where the agent plays the user's voice back. */
function playedBack(reply: Float32Array, rate: number, utteranceSeconds: number): Float32Array {
  return reply.subarray(Math.max(0, reply.length - Math.round((utteranceSeconds + 0.3) * rate)));
}

/** Best envelope correlation of `a` against `b` over lags of 0–20 blocks either way. */
function bestCorrelation(a: Float64Array, b: Float64Array): number {
  let best = -1;
  for (let lag = -20; lag <= 20; lag++) {
    const score = lag >= 0 ? correlation(a.subarray(lag), b) : correlation(a, b.subarray(-lag));
    best = Math.max(best, score);
  }
  return best;
}

/** Check a full turn: VAD events, transcripts, the reply's events, and return the reply audio bytes. */
async function expectTurn(client: TestClient, from: number, utteranceSeconds: number) {
  const start = await client.waitFor('voiceActivityStart', from);
  const end = await client.waitFor('voiceActivityEnd', start.index);
  const transcript = await client.waitFor('onUserTranscript', end.index);
  const match = /^\((\d+\.\d) s of speech\)$/.exec(String(transcript.message.message));
  expect(match, String(transcript.message.message)).not.toBeNull();
  expect(Math.abs(Number(match![1]) - utteranceSeconds)).toBeLessThan(0.3);
  const agentText = await client.waitFor('onAgentTranscript', transcript.index);
  expect(agentText.message.message).toBe('Here is what I heard.');
  const stream = await client.waitFor('newAudioStream', agentText.index);
  expect(stream.index).toBe(agentText.index + 1);
  const streamEnd = await client.waitFor('audioStreamEnd', stream.index);
  expect(streamEnd.message).toMatchObject({
    message: 'Here is what I heard.',
    jobId: expect.any(Number),
    audioStreamEnd: { message: 'Here is what I heard.', jobId: expect.any(Number) },
  });
  const between = client.messages.slice(stream.index + 1, streamEnd.index).map((m) => m.type);
  expect(between.length).toBeGreaterThan(0);
  expect(between.every((t) => t === 'audioStream')).toBe(true);
  return { start, end, bytes: audioBytes(client.messages, stream.index, streamEnd.index) };
}

describe.concurrent('a turn: the user speaks, the agent answers and plays the utterance back', () => {
  test('linear16 at 16 kHz in 20 ms frames, raw float32 out at 16 kHz', async () => {
    const rate = 16_000;
    const speech = await synthesizeSpeech(UTTERANCE, { sampleRate: rate });
    const client = await open({
      inputEncoding: 'linear16',
      inputSampleRate: rate,
      outputFormat: 'raw',
      outputSampleRate: rate,
    });
    const lead = silence(0.5, rate);
    const payloads = frames(concat(lead, speech, silence(1.2, rate)), rate, 'linear16');
    const sender = sendInRealTime(client, payloads);
    const onsetFrame = lead.length / (rate * 0.02);
    let framesAtStart = -1;
    client.ws.on('message', (data) => {
      if (framesAtStart < 0 && data.toString().includes('"voiceActivityStart"')) framesAtStart = sender.sent;
    });

    const { bytes } = await expectTurn(client, 0, speech.length / rate);
    // voiceActivityStart came while the first few frames of speech were still being sent.
    expect(framesAtStart - onsetFrame).toBeLessThanOrEqual(15);
    const reply = (await decodeOutput('raw', bytes, rate)).samples;
    const tail = playedBack(reply, rate, speech.length / rate);
    expect(levelDb(tail)).toBeGreaterThan(-35);
    expect(bestCorrelation(envelope(speech, rate), envelope(tail, rate))).toBeGreaterThan(0.9);
    await sender.done;
    await client.close();
  });

  test('mulaw at 8 kHz in, WAV at 24 kHz out: the utterance comes back resampled', async () => {
    const inRate = 8000;
    const outRate = 24_000;
    const speech = await synthesizeSpeech(UTTERANCE, { sampleRate: inRate });
    const client = await open({
      inputEncoding: 'mulaw',
      inputSampleRate: inRate,
      outputFormat: 'wav',
      outputSampleRate: outRate,
    });
    const sender = sendInRealTime(
      client,
      frames(concat(silence(0.4, inRate), speech, silence(1.2, inRate)), inRate, 'mulaw'),
    );
    const { bytes } = await expectTurn(client, 0, speech.length / inRate);
    const reply = await decodeOutput('wav', bytes, outRate);
    expect(reply.sampleRate).toBe(outRate);
    const tail = playedBack(reply.samples, outRate, speech.length / inRate);
    expect(bestCorrelation(envelope(speech, inRate), envelope(tail, outRate))).toBeGreaterThan(0.85);
    await sender.done;
    await client.close();
  });

  test('media-container WAV at 44.1 kHz in: a 440 Hz tone sent is the tone played back', async () => {
    const inRate = 44_100;
    const outRate = 22_050;
    const bursts = concat(tone(440, 0.4, inRate, 0.3), silence(0.15, inRate), tone(440, 0.4, inRate, 0.3));
    const client = await open({ outputFormat: 'raw', outputSampleRate: outRate });
    const sender = sendInRealTime(
      client,
      wavFrames(concat(silence(0.4, inRate), bursts, silence(1.2, inRate)), inRate),
    );
    const { bytes } = await expectTurn(client, 0, bursts.length / inRate);
    const reply = (await decodeOutput('raw', bytes, outRate)).samples;
    const tail = playedBack(reply, outRate, bursts.length / inRate);
    // The played-back part carries the tone at about the strength it was sent (0.3).
    const strongest = Math.max(
      ...[0.1, 0.3, 0.5, 0.7, 0.9, 1.1].map((at) =>
        toneAmplitude(
          tail.subarray(Math.round(at * outRate), Math.round((at + 0.1) * outRate)),
          440,
          outRate,
        ),
      ),
    );
    expect(strongest).toBeGreaterThan(0.2);
    expect(strongest).toBeLessThan(0.4);
    await sender.done;
    await client.close();
  });
});

describe.concurrent('input edge cases', () => {
  test('malformed base64 and misaligned PCM get a non-fatal 4400; the session carries on', async () => {
    const rate = 16_000;
    const client = await open({
      inputEncoding: 'linear16',
      inputSampleRate: rate,
      outputFormat: 'raw',
      outputSampleRate: rate,
    });
    client.send({ type: 'audioIn', data: '%%% definitely not base64 %%%' });
    const bad = await client.waitFor('error');
    expect(bad.message).toMatchObject({ code: 4400, isFatal: false });
    expect(String(bad.message.message)).toMatch(/base64/);
    client.send({ type: 'audioIn', data: Buffer.from([1, 2, 3]).toString('base64') });
    const misaligned = await client.waitFor('error', bad.index + 1);
    expect(misaligned.message).toMatchObject({ code: 4400, isFatal: false });
    client.send({ type: 'audioIn', data: 12 });
    const wrongType = await client.waitFor('error', misaligned.index + 1);
    expect(wrongType.message).toMatchObject({ code: 4400, isFatal: false });
    client.send('{not json');
    await client.waitFor('error', wrongType.index + 1);

    // Still listening: speech after all that is heard.
    const speech = concat(tone(300, 0.3, rate, 0.2), silence(0.1, rate), tone(350, 0.3, rate, 0.2));
    const sender = sendInRealTime(
      client,
      frames(concat(silence(0.2, rate), speech, silence(0.8, rate)), rate, 'linear16'),
    );
    await client.waitFor('voiceActivityStart');
    await client.waitFor('voiceActivityEnd');
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    await sender.done;
    await client.close();
  });

  test('empty audioIn frames (a muted client) count as silence and end the turn', async () => {
    const rate = 16_000;
    const client = await open({
      inputEncoding: 'linear16',
      inputSampleRate: rate,
      outputFormat: 'mulaw',
      outputSampleRate: 8000,
    });
    const speech = concat(silence(0.2, rate), tone(300, 0.5, rate, 0.2));
    const payloads = [...frames(speech, rate, 'linear16'), ...new Array<string>(40).fill('')];
    const sender = sendInRealTime(client, payloads);
    await client.waitFor('voiceActivityStart');
    const end = await client.waitFor('voiceActivityEnd');
    await client.waitFor('onUserTranscript', end.index);
    await sender.done;
    await client.close();
  });

  test('a client that stops sending mid-turn still gets voiceActivityEnd', async () => {
    const rate = 16_000;
    const client = await open({
      inputEncoding: 'linear16',
      inputSampleRate: rate,
      outputFormat: 'raw',
      outputSampleRate: rate,
    });
    const sender = sendInRealTime(
      client,
      frames(concat(silence(0.2, rate), tone(300, 0.5, rate, 0.2)), rate, 'linear16'),
    );
    await client.waitFor('voiceActivityStart');
    await sender.done;
    await client.waitFor('voiceActivityEnd');
    await client.close();
  });

  test('customInput is answered in speech', async () => {
    const client = await open({ outputFormat: 'raw', outputSampleRate: 16_000 });
    client.send({ type: 'customInput', data: 'hello agent' });
    const text = await client.waitFor('onAgentTranscript');
    expect(text.message.message).toBe('You wrote: hello agent');
    const stream = await client.waitFor('newAudioStream', text.index);
    const end = await client.waitFor('audioStreamEnd', stream.index);
    const audio = (await decodeOutput('raw', audioBytes(client.messages, stream.index, end.index), 16_000))
      .samples;
    expect(audio.length / 16_000).toBeGreaterThan(0.5);
    expect(levelDb(audio)).toBeGreaterThan(-35);
    await client.close();
  });
});
