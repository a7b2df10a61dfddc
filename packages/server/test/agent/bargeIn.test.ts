import { type LocalAgent, startLocalAgent, synthesizeSpeech } from '@voicewire/server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { concat, tone } from '../../../../testing/audio.ts';
import { connect } from './client.ts';
import { frames, sendInRealTime, silence } from './input.ts';

const GREETING =
  'Hello and welcome. This greeting goes on for a while so that there is plenty of time to interrupt it before it ends.';
const RATE = 16_000;

let agent: LocalAgent;
beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, log: false, silenceMs: 400 });
});
afterAll(() => agent.close());

describe.concurrent('barge-in', () => {
  test('speaking during the greeting stops it at once and reports the part that was spoken', async () => {
    const greetingSeconds = (await synthesizeSpeech(GREETING, { sampleRate: RATE })).length / RATE;
    const client = await connect(`${agent.url}/talker`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: GREETING,
      inputEncoding: 'linear16',
      inputSampleRate: RATE,
      outputFormat: 'raw',
      outputSampleRate: RATE,
    });
    const announced = await client.waitFor('newAudioStream');
    // A microphone hearing the room: silence while the greeting plays, then the user talks over it.
    const talk = concat(tone(300, 0.3, RATE, 0.2), silence(0.1, RATE), tone(360, 0.4, RATE, 0.2));
    const sender = sendInRealTime(
      client,
      frames(concat(silence(1.5, RATE), talk, silence(1, RATE)), RATE, 'linear16'),
    );

    const start = await client.waitFor('voiceActivityStart', announced.index);
    const interrupted = await client.waitFor('onAgentInterrupted', start.index);
    expect(interrupted.index).toBe(start.index + 1);
    // The greeting is over: its end comes once, right away, with the words that were spoken.
    const greetingEnd = await client.waitFor('onAgentGreetingEnd', announced.index);
    expect(greetingEnd.index).toBe(interrupted.index + 1);
    expect(greetingEnd.message.message).toBe(interrupted.message.updatedMessage);
    const spoken = String(interrupted.message.updatedMessage);
    // A non-empty, whole-word prefix of the greeting, shorter than it.
    expect(spoken.length).toBeGreaterThan(0);
    expect(spoken.length).toBeLessThan(GREETING.length);
    expect(GREETING.startsWith(spoken)).toBe(true);
    expect([' ', ',', '.'].includes(GREETING[spoken.length] ?? '')).toBe(true);
    // In proportion to the audio sent before the interruption.
    const sentSeconds =
      client.messages
        .slice(announced.index, start.index)
        .filter((m) => m.type === 'audioStream')
        .reduce((sum, m) => sum + Buffer.from(String(m.data), 'base64').length, 0) /
      4 /
      RATE;
    expect(Math.abs(spoken.length / GREETING.length - sentSeconds / greetingSeconds)).toBeLessThan(0.2);

    // No more greeting audio, and no stream end for it; the next stream is the reply.
    await client.waitFor('voiceActivityEnd', start.index);
    const next = await client.waitFor('newAudioStream', start.index);
    const afterInterrupt = client.messages.slice(start.index, next.index).map((m) => m.type);
    expect(afterInterrupt).not.toContain('audioStream');
    expect(afterInterrupt.filter((t) => t === 'onAgentGreetingEnd')).toHaveLength(1);
    expect(afterInterrupt).not.toContain('audioStreamEnd');
    await sender.done;
    await client.close();
  });

  test('speaking during a reply interrupts the reply', async () => {
    const client = await connect(`${agent.url}/talker`);
    client.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: '',
      inputEncoding: 'linear16',
      inputSampleRate: RATE,
      outputFormat: 'raw',
      outputSampleRate: RATE,
    });
    await client.waitFor('init');
    const turn = concat(tone(300, 0.5, RATE, 0.2), silence(0.1, RATE), tone(360, 0.5, RATE, 0.2));
    // Speak, keep the microphone open, and speak over the reply once it has started.
    const first = sendInRealTime(
      client,
      frames(concat(silence(0.3, RATE), turn, silence(6, RATE)), RATE, 'linear16'),
    );
    const reply = await client.waitFor('newAudioStream');
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.stop();
    const sender = sendInRealTime(client, frames(concat(turn, silence(1, RATE)), RATE, 'linear16'));
    const start = await client.waitFor('voiceActivityStart', reply.index);
    const interrupted = await client.waitFor('onAgentInterrupted', start.index);
    expect('Here is what I heard.'.startsWith(String(interrupted.message.updatedMessage))).toBe(true);
    const between = client.messages.slice(reply.index, start.index).map((m) => m.type);
    expect(between).not.toContain('audioStreamEnd');
    await sender.done;
    await client.close();
  });
});

describe.concurrent('continueConversation', () => {
  test('a known conversation id resumes it: same id in init, no greeting', async () => {
    const first = await connect(`${agent.url}/talker`);
    first.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'Hi.',
      outputFormat: 'raw',
      outputSampleRate: RATE,
    });
    const init = await first.waitFor('init');
    await first.waitFor('audioStreamEnd');
    await first.close();
    const conversationId = String(init.message.conversationId);

    const second = await connect(`${agent.url}/talker`);
    second.send({
      type: 'setup',
      apiKey: 'k',
      customGreeting: 'Hi.',
      outputFormat: 'raw',
      outputSampleRate: RATE,
      continueConversation: conversationId,
    });
    const resumed = await second.waitFor('init');
    expect(resumed.message.conversationId).toBe(conversationId);
    // Still usable, and no greeting arrives: only its end, empty, so that clients waiting for
    // it (PlayAI's SDK) open their microphone.
    second.send({ type: 'customInput', data: 'still there?' });
    const answer = await second.waitFor('onAgentTranscript');
    const types = second.messages.slice(0, answer.index).map((m) => m.type);
    expect(types).toEqual(['init', 'onAgentGreetingEnd']);
    expect(second.messages[1]).toEqual({ type: 'onAgentGreetingEnd', message: '' });
    await second.close();
  });

  test('an unknown conversation id gets 4400 and the socket closes', async () => {
    const client = await connect(`${agent.url}/talker`);
    client.send({ type: 'setup', apiKey: 'k', continueConversation: 'conv_never_seen' });
    const { message } = await client.waitFor('error');
    expect(message.code).toBe(4400);
    expect((await client.closed).code).toBe(1008);
  });

  test('a conversation of another agent id is not resumed', async () => {
    const first = await connect(`${agent.url}/agent-a`);
    first.send({ type: 'setup', apiKey: 'k', customGreeting: '' });
    const init = await first.waitFor('init');
    await first.close();
    const other = await connect(`${agent.url}/agent-b`);
    other.send({ type: 'setup', apiKey: 'k', continueConversation: init.message.conversationId });
    expect((await other.waitFor('error')).message.code).toBe(4400);
  });
});
