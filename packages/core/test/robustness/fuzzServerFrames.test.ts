import type { ConversationError, ConversationState } from '@voicewire/core';
import { createTestConversation, type FakeWebSocket } from '@voicewire/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { watchInternalErrors } from '../../../../testing/internalErrors.ts';
import { createRandom, type Frame, nextFrame } from './serverFrames.ts';

/**
 * 10,000 random and mutated server frames into a live conversation (the real controller, the real
 * parser, an in-memory socket and fake audio): nothing may throw out of the library, the state
 * must stay well formed after every frame, and a normal exchange afterwards must work as if the
 * garbage had never been sent.
 */

const FRAMES = 10_000;
const SEED = Number(process.env.VOICEWIRE_FUZZ_SEED ?? 0x5eed);

const STATUSES = ['idle', 'connecting', 'connected', 'reconnecting', 'ended', 'error'];
const MODES = ['listening', 'userSpeaking', 'thinking', 'agentSpeaking'];

function stateProblem(state: ConversationState): string | null {
  if (!STATUSES.includes(state.status)) return `status ${String(state.status)}`;
  if (!MODES.includes(state.mode)) return `mode ${String(state.mode)}`;
  if (
    state.conversationId !== null &&
    (typeof state.conversationId !== 'string' || state.conversationId === '')
  ) {
    return `conversationId ${String(state.conversationId)}`;
  }
  if (typeof state.isMuted !== 'boolean') return 'isMuted';
  if (!Array.isArray(state.transcript)) return 'transcript not an array';
  const ids = new Set<string>();
  for (const turn of state.transcript) {
    if (typeof turn !== 'object' || turn === null) return 'turn not an object';
    if (typeof turn.id !== 'string' || ids.has(turn.id)) return `turn id ${String(turn.id)}`;
    ids.add(turn.id);
    if (turn.role !== 'user' && turn.role !== 'agent') return `turn role ${String(turn.role)}`;
    if (typeof turn.text !== 'string') return 'turn text';
    if (typeof turn.interrupted !== 'boolean') return 'turn interrupted';
    const extra = Object.keys(turn).filter((k) => !['id', 'role', 'text', 'interrupted'].includes(k));
    if (extra.length > 0) return `turn has extra keys ${extra.join(',')}`;
  }
  if (state.error !== null) {
    if (typeof state.error.kind !== 'string' || typeof state.error.message !== 'string') return 'error shape';
  }
  return null;
}

/** Delivers a frame exactly as a browser socket would: text as a string, binary as an ArrayBuffer. */
function deliver(socket: FakeWebSocket, frame: Frame): void {
  if (typeof frame === 'string') {
    socket.serverSend(frame);
    return;
  }
  const event = new MessageEvent('message', { data: frame });
  socket.onmessage?.call(socket as unknown as WebSocket, event);
  socket.dispatchEvent(event);
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('the internal-error watch', () => {
  it('sees an exception the socket handler caught (so the fuzz below can fail on one)', async () => {
    const { conversation, server } = createTestConversation({
      output: { format: 'mulaw', sampleRate: 16000 },
    });
    stops.push(() => conversation.stop());
    await conversation.start();
    const watch = watchInternalErrors();
    // The store is read-only to users; underneath it is zustand's, whose setState is planted here.
    const store = conversation.store as typeof conversation.store & { setState: () => void };
    const setState = store.setState;
    try {
      // A bug inside the library's handling of a valid frame: its state update throws.
      store.setState = () => {
        throw new Error('planted bug');
      };
      expect(() => server.agentSays('Hello.')).not.toThrow();
      expect(watch.lines.join('\n')).toMatch(/planted bug/);
    } finally {
      store.setState = setState;
      watch.restore();
    }
  });
});

describe('10,000 random and mutated server frames', () => {
  it(`leave the conversation consistent and working (seed ${SEED})`, async () => {
    const watch = watchInternalErrors();
    stops.push(async () => watch.restore());
    const errors: ConversationError[] = [];
    const { conversation, server, audio } = createTestConversation({
      output: { format: 'mulaw', sampleRate: 16000 },
      onError: (error) => errors.push(error),
    });
    stops.push(() => conversation.stop());
    await conversation.start();
    expect(conversation.store.getState().status).toBe('connected');
    const socket = server.socket as FakeWebSocket;
    const conversationId = conversation.store.getState().conversationId;
    const player = audio.player;
    const capture = audio.capture;
    expect(player).toBeDefined();
    expect(capture).toBeDefined();

    const random = createRandom(SEED);
    for (let i = 0; i < FRAMES; i++) {
      const frame = nextFrame(random, 'mulaw');
      try {
        deliver(socket, frame);
        // The player's own events interleave with the frames, as they would in a browser.
        if (random.chance(0.02)) player?.emitStarted();
        if (random.chance(0.02)) player?.emitDrained();
        if (random.chance(0.05)) capture?.emitFrame();
      } catch (error) {
        const shown = typeof frame === 'string' ? frame.slice(0, 200) : `<binary ${frame.byteLength} bytes>`;
        throw new Error(
          `frame ${i} (seed ${SEED}) threw out of the library: ${String(error)}\nframe: ${shown}`,
        );
      }
      const problem = stateProblem(conversation.store.getState());
      if (problem !== null) throw new Error(`frame ${i} (seed ${SEED}) left a bad state: ${problem}`);
      if (watch.lines.length > 0) {
        const shown = typeof frame === 'string' ? frame.slice(0, 200) : `<binary ${frame.byteLength} bytes>`;
        throw new Error(
          `frame ${i} (seed ${SEED}) made the library log an internal error: ${watch.lines[0]}\nframe: ${shown}`,
        );
      }
    }

    // Garbage never ended, paused or re-identified the conversation, and never reconnected it.
    let state = conversation.store.getState();
    expect(state.status).toBe('connected');
    expect(state.conversationId).toBe(conversationId);
    expect(server.sockets).toHaveLength(1);
    expect(socket.readyState).toBe(1);
    expect(conversation.getStats().reconnects).toBe(0);
    // Every complaint was a structured, non-fatal error of a kind an integrator can switch on.
    expect(errors.length).toBeGreaterThan(1000);
    for (const error of errors) {
      expect(['protocol', 'decode']).toContain(error.kind);
      expect(error.fatal).toBe(false);
      expect(typeof error.message).toBe('string');
    }
    // Prototype pollution attempts stayed inert.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // A normal exchange afterwards.
    player?.emitDrained();
    const enqueuedBefore = player?.enqueued.length ?? 0;
    const framesBefore = server.received('audioIn').length;
    server.agentSays('Agent marker.');
    server.userSays('User marker.');
    state = conversation.store.getState();
    expect(state.mode).toBe('thinking');
    const reply = new Uint8Array(320).map((_, i) => (i * 7) & 0xff);
    server.agentSays('Reply marker.', [reply]);
    player?.emitStarted();
    expect(conversation.store.getState().mode).toBe('agentSpeaking');
    state = conversation.store.getState();
    const [secondLast, last] = state.transcript.slice(-2);
    expect(secondLast).toMatchObject({ role: 'user', text: 'User marker.', interrupted: false });
    expect(last).toMatchObject({ role: 'agent', text: 'Reply marker.', interrupted: false });
    expect(state.transcript.at(-3)?.text.endsWith('Agent marker.')).toBe(true);
    // The reply's audio reached the player byte for byte.
    expect(player?.enqueued.length).toBe(enqueuedBefore + 1);
    expect(Array.from(player?.enqueued.at(-1) ?? [])).toEqual(Array.from(reply));
    // Barge-in still interrupts.
    const interruptsBefore = player?.calls.filter((c) => c === 'interrupt').length ?? 0;
    server.interrupt('Reply');
    expect(player?.calls.filter((c) => c === 'interrupt').length).toBe(interruptsBefore + 1);
    expect(conversation.store.getState().transcript.at(-1)).toMatchObject({
      role: 'agent',
      text: 'Reply',
      interrupted: true,
    });
    player?.emitDrained();
    // The microphone still streams.
    capture?.emitFrames(5);
    expect(server.received('audioIn').length).toBe(framesBefore + 5);

    // And it still ends cleanly.
    await conversation.stop();
    expect(conversation.store.getState().status).toBe('ended');
    expect(capture?.stopped).toBe(true);
    expect(player?.closed).toBe(true);
    expect(socket.readyState).toBe(3);
    watch.expectNone();
  }, 120_000);
});
