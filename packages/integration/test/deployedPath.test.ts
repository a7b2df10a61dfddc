import { type ConversationError, createConversation, type DisconnectReason } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

/**
 * The client against the local agent over real sockets, on the deployed SDK's path
 * (`/v1/agents/<agentId>/start-conversation`, docs/protocol.md "Endpoints"), reading what the
 * agent sends the way the deployed service sends it: `audioStreamEnd` with top-level fields, an
 * empty `onAgentGreetingEnd`, `hangup` from the agent.
 */

const apiKey = 'path-key';
let agent: LocalAgent;

beforeAll(async () => {
  agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], greeting: '', log: false });
});
afterAll(async () => {
  await agent.close();
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function until(check: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

function start(url: string) {
  const opened: string[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      opened.push(String(address));
    }
  }
  const audio = createFakeAudio();
  const errors: ConversationError[] = [];
  const disconnects: DisconnectReason[] = [];
  const conversation = createConversation({
    agentId: 'path-agent',
    url,
    apiKey,
    input: { encoding: 'linear16', sampleRate: 16000 },
    output: { format: 'mulaw', sampleRate: 16000 },
    WebSocket: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    audio: audio.factories,
    onError: (error) => errors.push(error),
    onDisconnect: (reason) => disconnects.push(reason),
  });
  stops.push(() => conversation.stop());
  return { conversation, audio, errors, disconnects, opened };
}

describe('the deployed path as url', () => {
  it.each([
    ['a /v1/agents base', (origin: string) => `${origin}/v1/agents`],
    ['an {agentId} template', (origin: string) => `${origin}/v1/agents/{agentId}/start-conversation`],
    ['the complete URL', (origin: string) => `${origin}/v1/agents/path-agent/start-conversation`],
  ])('%s reaches the agent: init, a reply, its end read from the top-level fields', async (_, url) => {
    const { conversation, audio, errors, opened } = start(url(agent.origin));
    await conversation.start();
    expect(opened).toEqual([`${agent.origin}/v1/agents/path-agent/start-conversation`]);
    expect(conversation.store.getState().status).toBe('connected');
    conversation.sendCustomInput('over the deployed path');
    await until(
      () =>
        conversation.store.getState().transcript.some((t) => t.text === 'You wrote: over the deployed path'),
      30_000,
      'the reply',
    );
    // audioStreamEnd parsed and reached the player as the end of the stream.
    await until(() => (audio.player?.calls ?? []).includes('endStream'), 30_000, 'endStream');
    // The empty onAgentGreetingEnd of a call without a greeting adds no turn: the reply is the only one.
    expect(conversation.store.getState().transcript.map((t) => t.text)).toEqual([
      'You wrote: over the deployed path',
    ]);
    expect(errors).toEqual([]);
  });

  it("?hangupAfterTurns=1: the agent's goodbye and hangup end the conversation, by the agent", async () => {
    const { conversation, errors, disconnects } = start(`${agent.origin}/v1/agents?hangupAfterTurns=1`);
    await conversation.start();
    conversation.sendCustomInput('bye');
    await until(() => conversation.store.getState().status === 'ended', 30_000, 'the end');
    expect(disconnects).toEqual([{ by: 'agent' }]);
    // The reply and the goodbye, one agent turn after the other (the transcript joins them).
    const last = conversation.store.getState().transcript.at(-1);
    expect(last?.role).toBe('agent');
    expect(last?.text).toBe('You wrote: bye That is all for now. Goodbye!');
    expect(errors).toEqual([]);
  });
});
