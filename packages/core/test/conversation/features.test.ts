import type { ConversationStatus } from '@voicewire/core';
import { createTestConversation } from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTalkGate } from '../../src/conversation/talkGate.ts';

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
};

/** A connected test conversation with its fake audio loaded. */
async function connected(options: Parameters<typeof createTestConversation>[0] = {}) {
  const test = createTestConversation({ reconnect: false, ...options });
  const started = test.conversation.start();
  await settle();
  test.server.init('conv-1');
  await started;
  return test;
}

const audioInCount = (test: Awaited<ReturnType<typeof connected>>) => test.server.received('audioIn').length;

describe('talk gate', () => {
  it('passes every frame in vad; in push-to-talk only while held, then a tail of silence, then nothing', () => {
    const gate = createTalkGate({ turnTaking: 'pushToTalk', encoding: 'mulaw', frameMs: 20, tailMs: 100 });
    const frame = new Uint8Array(160).fill(7);
    expect(gate.pass(frame)).toBeNull();
    expect(gate.press()).toBe(true);
    expect(gate.pass(frame)).toBe(frame);
    expect(gate.release()).toBe(true);
    const tail = [1, 2, 3, 4, 5].map(() => gate.pass(frame));
    // μ-law silence is 0xFF, the same size as the frame.
    expect(tail.every((t) => t !== null && t.length === 160 && t.every((b) => b === 0xff))).toBe(true);
    expect(gate.pass(frame)).toBeNull();
    gate.setTurnTaking('vad');
    expect(gate.press()).toBe(false);
    expect(gate.pass(frame)).toBe(frame);
  });
});

describe('push-to-talk', () => {
  it('streams the mic only while held; a release sends the silence tail; the mode switches without reconnecting', async () => {
    const test = await connected({ turnTaking: 'pushToTalk', releaseTailMs: 200 });
    const { conversation, audio, server } = test;
    const capture = audio.capture!;
    expect(conversation.store.getState().turnTaking).toBe('pushToTalk');
    capture.emitFrames(10);
    expect(audioInCount(test)).toBe(0);

    conversation.pressToTalk();
    expect(conversation.store.getState().talking).toBe(true);
    capture.emitFrames(25);
    expect(audioInCount(test)).toBe(25);
    conversation.releaseToTalk();
    expect(conversation.store.getState().talking).toBe(false);
    capture.emitFrames(30);
    // 200 ms of 20 ms frames: 10 frames of digital silence, then nothing.
    const sent = server.received('audioIn');
    expect(sent).toHaveLength(35);
    expect(sent.slice(25).every((m) => /^A+=*$/.test(m.data))).toBe(true);

    conversation.setTurnTaking('vad');
    capture.emitFrames(5);
    expect(audioInCount(test)).toBe(40);
    expect(server.sockets).toHaveLength(1);
    conversation.setTurnTaking('pushToTalk');
    expect(conversation.store.getState().turnTaking).toBe('pushToTalk');
    expect(server.sockets).toHaveLength(1);
    await conversation.stop();
  });

  it('pressing while the agent speaks silences it at once, locally, before the server hears anything', async () => {
    const test = await connected({ turnTaking: 'pushToTalk' });
    const { conversation, audio, server } = test;
    server.agentSays('A long answer', [new Uint8Array(480), new Uint8Array(480)]);
    await settle();
    audio.player!.emitStarted();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    conversation.pressToTalk();
    expect(audio.player!.calls.at(-1)).toBe('interrupt');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    // Audio of the interrupted reply that was still on its way is dropped by the player.
    await conversation.stop();
  });

  it('switched to push-to-talk before the call: the call starts silent on the wire (no stray tail)', async () => {
    const test = createTestConversation({ reconnect: false });
    test.conversation.setTurnTaking('pushToTalk');
    const started = test.conversation.start();
    await settle();
    test.server.init('conv-1');
    await started;
    test.audio.capture!.emitFrames(20);
    expect(test.server.received('audioIn')).toHaveLength(0);
    await test.conversation.stop();
  });

  it('does nothing in vad mode', async () => {
    const test = await connected();
    test.conversation.pressToTalk();
    expect(test.conversation.store.getState().talking).toBe(false);
    test.audio.capture!.emitFrames(3);
    expect(audioInCount(test)).toBe(3);
    await test.conversation.stop();
  });
});

describe('drain, then close', () => {
  it('hangup: status ending while the goodbye plays (mic and socket released at once), then ended', async () => {
    const test = await connected();
    const { conversation, audio, server } = test;
    const statuses: ConversationStatus[] = [];
    const disconnects: unknown[] = [];
    conversation.on('statusChange', (s) => statuses.push(s));
    conversation.on('disconnect', (r) => disconnects.push(r));
    server.agentSays('Goodbye!', [new Uint8Array(960)]);
    server.hangup();
    await settle();
    expect(conversation.store.getState().status).toBe('ending');
    expect(audio.capture!.stopped).toBe(true);
    expect(server.sockets[0]!.readyState).toBe(3);
    expect(audio.player!.closed).toBe(false);
    audio.player!.emitStarted();
    audio.player!.emitDrained();
    await settle();
    expect(conversation.store.getState().status).toBe('ended');
    expect(audio.player!.closed).toBe(true);
    expect(statuses).toEqual(['ending', 'ended']);
    expect(disconnects).toEqual([{ by: 'agent' }]);
  });

  it('a normal close right after the reply ended drains too; with nothing left to play it ends at once', async () => {
    const test = await connected();
    test.server.agentSays('Bye', [new Uint8Array(960)]);
    test.server.serverClose(1000);
    await settle();
    expect(test.conversation.store.getState().status).toBe('ending');
    test.audio.player!.emitDrained();
    await settle();
    expect(test.conversation.store.getState().status).toBe('ended');

    const quiet = await connected();
    quiet.server.hangup();
    await settle();
    expect(quiet.conversation.store.getState().status).toBe('ended');
  });

  it('the goodbye ran out before the hangup arrived (paced in real time): ended at once, no 10 s wait', async () => {
    const test = await connected();
    const { conversation, audio, server } = test;
    const statuses: ConversationStatus[] = [];
    conversation.on('statusChange', (s) => statuses.push(s));
    // The local agent's order: audio, then (once it has had time to play) the reply's end, then
    // the hang-up. The queue runs dry before either arrives: its `drained` has passed for good.
    server.serverSend({ type: 'newAudioStream' });
    server.audio(new Uint8Array(960));
    await settle();
    audio.player!.emitStarted();
    audio.player!.emitDrained();
    server.serverSend({ type: 'audioStreamEnd', message: 'Goodbye!', jobId: 1 });
    server.hangup();
    await settle();
    expect(conversation.store.getState().status).toBe('ended');
    expect(statuses).toEqual(['ended']);
    expect(audio.player!.closed).toBe(true);
    expect(audio.capture!.stopped).toBe(true);
  });

  it('is bounded by drainTimeoutMs, and a user stop() cuts it at once', async () => {
    vi.useFakeTimers();
    try {
      const test = await connected({ drainTimeoutMs: 2000 });
      test.server.agentSays('Bye', [new Uint8Array(960)]);
      test.server.hangup();
      await settle();
      expect(test.conversation.store.getState().status).toBe('ending');
      await vi.advanceTimersByTimeAsync(1999);
      expect(test.conversation.store.getState().status).toBe('ending');
      await vi.advanceTimersByTimeAsync(2);
      expect(test.conversation.store.getState().status).toBe('ended');

      const cut = await connected();
      cut.server.agentSays('Bye', [new Uint8Array(960)]);
      cut.server.hangup();
      await settle();
      expect(cut.conversation.store.getState().status).toBe('ending');
      await cut.conversation.stop();
      expect(cut.conversation.store.getState().status).toBe('ended');
      expect(cut.audio.player!.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('wake lock', () => {
  const held = new Set<object>();
  let requests = 0;
  afterEach(() => {
    vi.unstubAllGlobals();
    held.clear();
    requests = 0;
  });
  /** The window's events (Node has none): `pagehide` is dispatched here. */
  const page = new EventTarget();
  function stubWakeLock() {
    vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
    vi.stubGlobal('removeEventListener', page.removeEventListener.bind(page));
    vi.stubGlobal('navigator', {
      wakeLock: {
        async request() {
          requests++;
          const sentinel = {
            released: false,
            async release() {
              sentinel.released = true;
              held.delete(sentinel);
            },
            addEventListener() {},
            removeEventListener() {},
          };
          held.add(sentinel);
          return sentinel;
        },
      },
    });
  }

  const endPaths: [string, (test: Awaited<ReturnType<typeof connected>>) => Promise<void> | void][] = [
    ['user', (t) => t.conversation.stop()],
    ['unmount', (t) => t.conversation.stop('unmount')],
    ['agent', (t) => t.server.hangup()],
    ['error', (t) => t.server.error(4401, 'Unauthorized')],
    ['network', (t) => t.server.serverClose(1006)],
    ['page closed', () => void page.dispatchEvent(new Event('pagehide'))],
  ];
  it.each(endPaths)(
    'is held during the call and released when it ends (%s), with the mic',
    async (_name, end) => {
      stubWakeLock();
      const test = await connected();
      // The wake lock module loads with the call.
      await vi.waitFor(() => expect(held.size).toBe(1));
      await end(test);
      await settle();
      expect(test.conversation.store.getState().status).toMatch(/ended|error/);
      expect(held.size).toBe(0);
      expect(test.audio.capture!.stopped).toBe(true);
    },
  );

  it('wakeLock: false never asks', async () => {
    stubWakeLock();
    const test = await connected({ wakeLock: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toBe(0);
    await test.conversation.stop();
  });
});
