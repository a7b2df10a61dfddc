import type { Capture, CaptureOptions, Player, PlayerOptions } from '@voicewire/core';
import {
  createFakeCapture,
  createFakePlayer,
  createTestConversation,
  FakeAudioContext,
  type FakeCapture,
  type FakePlayer,
} from '@voicewire/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
  FakeAudioContext.instances.length = 0;
});

/** Audio factories whose promises settle only when the test says (or never). */
function deferredAudio() {
  const captureOptions: CaptureOptions[] = [];
  const playerOptions: PlayerOptions[] = [];
  const captures: FakeCapture[] = [];
  const players: FakePlayer[] = [];
  let resolveCapture: (() => void) | null = null;
  let resolvePlayer: (() => void) | null = null;
  const createCapture = (options: CaptureOptions) =>
    new Promise<Capture>((resolve) => {
      captureOptions.push(options);
      resolveCapture = () => {
        const capture = createFakeCapture(options);
        captures.push(capture);
        resolve(capture);
      };
    });
  const createPlayer = (options: PlayerOptions) =>
    new Promise<Player>((resolve) => {
      playerOptions.push(options);
      resolvePlayer = () => {
        const player = createFakePlayer(options);
        players.push(player);
        resolve(player);
      };
    });
  return {
    factories: { createCapture, createPlayer },
    captureOptions,
    playerOptions,
    captures,
    players,
    resolveCapture: () => resolveCapture?.(),
    resolvePlayer: () => resolvePlayer?.(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('audio that loads after the end', () => {
  it('a capture resolving after stop() is stopped at once, though the player never loads', async () => {
    const audio = deferredAudio();
    const { conversation, server } = createTestConversation({ audio: audio.factories });
    const started = conversation.start();
    await settle();
    expect(conversation.store.getState().status).toBe('connected');
    await conversation.stop();
    await started;
    // The mic permission is granted only now; the player's worklet load hangs for good.
    audio.resolveCapture();
    await settle();
    expect(audio.captures).toHaveLength(1);
    expect(audio.captures[0]?.stopped).toBe(true);
    // Its frames go nowhere.
    audio.captures[0]?.emitFrame();
    expect(server.received('audioIn')).toHaveLength(0);
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', error: null });
  });

  it('stop() aborts the signal given to a capture and a player still loading', async () => {
    const audio = deferredAudio();
    const onError = vi.fn();
    const { conversation } = createTestConversation({ audio: audio.factories, onError });
    const started = conversation.start();
    await settle();
    const captureSignal = audio.captureOptions[0]?.signal;
    const playerSignal = audio.playerOptions[0]?.signal;
    expect(captureSignal?.aborted).toBe(false);
    expect(playerSignal?.aborted).toBe(false);
    await conversation.stop();
    await started;
    expect(captureSignal?.aborted).toBe(true);
    expect(playerSignal?.aborted).toBe(true);
    // The engine rejects an aborted start: that is the end the user asked for, not an error.
    expect(onError).not.toHaveBeenCalled();
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', error: null });
  });

  it('a start that is not cancelled keeps its signal un-aborted while the call runs', async () => {
    const { conversation, audio } = createTestConversation();
    await conversation.start();
    const signal = audio.capture?.options.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
    expect(audio.player?.options.signal).toBe(signal);
    await conversation.stop();
  });

  it('a player resolving after stop() is closed and never attached', async () => {
    const audio = deferredAudio();
    const { conversation } = createTestConversation({ audio: audio.factories });
    const started = conversation.start();
    await settle();
    await conversation.stop();
    await started;
    audio.resolvePlayer();
    await settle();
    expect(audio.players[0]?.closed).toBe(true);
    expect(conversation.getOutputLevel()).toBe(0);
    expect(conversation.getStats().player).toBeUndefined();
  });

  it('factories that never settle: stop() completes and releases the context, socket and timers', async () => {
    vi.useFakeTimers();
    const audio = deferredAudio();
    const onDisconnect = vi.fn();
    const { conversation, server } = createTestConversation({ audio: audio.factories, onDisconnect });
    const started = conversation.start();
    await vi.advanceTimersByTimeAsync(0);
    await conversation.stop();
    await started;
    expect(conversation.store.getState()).toMatchObject({ status: 'ended', mode: 'listening', error: null });
    expect(onDisconnect).toHaveBeenCalledExactlyOnceWith({ by: 'user' });
    expect(FakeAudioContext.instances.at(-1)?.state).toBe('closed');
    expect(server.socket?.readyState).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
    // Should they settle after all, they are released.
    audio.resolveCapture();
    audio.resolvePlayer();
    await vi.advanceTimersByTimeAsync(0);
    expect(audio.captures[0]?.stopped).toBe(true);
    expect(audio.players[0]?.closed).toBe(true);
  });

  it('a capture resolving between the player and the end is stopped by the end', async () => {
    const audio = deferredAudio();
    const { conversation } = createTestConversation({ audio: audio.factories });
    const started = conversation.start();
    await settle();
    audio.resolveCapture();
    await settle();
    // The capture is loaded but not yet attached (the player is still loading).
    expect(audio.captures[0]?.stopped).toBe(false);
    await conversation.stop();
    await started;
    await settle();
    expect(audio.captures[0]?.stopped).toBe(true);
  });
});

describe('getStats().player', () => {
  it("carries the player's jitter buffer and underruns while it is loaded", async () => {
    const { conversation, audio, server } = createTestConversation();
    expect(conversation.getStats().player).toBeUndefined();
    await conversation.start();
    const player = audio.player;
    if (!player) throw new Error('no player');
    server.greet('Hello!', [new Uint8Array(480)]);
    player.setStats({ bufferedMs: 60, jitterTargetMs: 40 });
    player.emitUnderrun();
    player.emitUnderrun();
    expect(conversation.getStats().player).toMatchObject({
      bufferedMs: 60,
      jitterTargetMs: 40,
      underruns: 2,
      generation: player.generation,
      bytesEnqueued: player.enqueued.reduce((sum, chunk) => sum + chunk.length, 0),
    });
    expect(conversation.getStats().player?.bytesEnqueued).toBeGreaterThan(0);
    await conversation.stop();
    expect(conversation.getStats().player).toBeUndefined();
  });

  it('a player whose getStats throws leaves the other counters readable', async () => {
    const { conversation, audio } = createTestConversation();
    await conversation.start();
    const player = audio.player;
    if (!player) throw new Error('no player');
    player.getStats = () => {
      throw new Error('worklet gone');
    };
    const stats = conversation.getStats();
    expect(stats.player).toBeUndefined();
    expect(stats.framesSent).toBe(0);
    await conversation.stop();
  });
});
