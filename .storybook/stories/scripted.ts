import type { Conversation } from '@voicewire/core';
import { createTestConversation, type TestConversation } from '@voicewire/core/testing';
import type { TalkButtonState } from '@voicewire/react';

/** Lets queued microtasks run: the scripted server opens and answers `setup` on microtasks. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}

/** 20 ms of a 440 Hz tone as 16-bit PCM at 24 kHz: a stand-in for one chunk of agent speech. */
export function speechChunk(): Uint8Array {
  const samples = 480;
  const bytes = new Uint8Array(samples * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples; i += 1) {
    view.setInt16(i * 2, Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), true);
  }
  return bytes;
}

/**
 * The real conversation controller on a scripted in-memory server and fake audio, played into
 * the given state by the server messages that lead there. No network, no microphone.
 */
export async function conversationIn(state: TalkButtonState): Promise<TestConversation> {
  const test = createTestConversation({
    server: { autoOpen: state !== 'connecting' },
    // Keep a reconnecting conversation there for the story's lifetime.
    reconnect: state === 'reconnecting' ? { initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 } : false,
  });
  const { conversation, server, audio } = test;
  if (state === 'idle') return test;
  const started = conversation.start().catch(() => {});
  await settle();
  if (state === 'connecting') return test;
  await started;
  switch (state) {
    case 'userSpeaking':
      server.serverSend({ type: 'voiceActivityStart' });
      break;
    case 'thinking':
      server.userSays('What can you do?');
      break;
    case 'agentSpeaking':
      server.userSays('What can you do?');
      server.agentSays('I can talk with you about anything.', [speechChunk(), speechChunk()]);
      await settle();
      audio.player?.emitStarted();
      break;
    case 'reconnecting':
      server.serverClose(1006);
      break;
    case 'ending':
      // The agent hangs up during its goodbye: it plays out first (the fake player never finishes).
      server.agentSays('Goodbye!', [speechChunk(), speechChunk()]);
      await settle();
      audio.player?.emitStarted();
      server.hangup();
      break;
    case 'ended':
      server.hangup();
      break;
    case 'error':
      server.error(4401, 'Unauthorized');
      break;
    default:
      break;
  }
  await settle();
  return test;
}

/** A conversation for a story that is never started (the idle state of a bound component). */
export function idleConversation(): Conversation {
  return createTestConversation().conversation;
}
