import { createConversation, provideEngine } from '../conversation/createConversation.ts';
import * as engine from '../conversation/engine.ts';
import type { Conversation, ConversationOptions } from '../conversation/types.ts';
import { startSession as startPlayAI } from '../providers/playai/session.ts';
import {
  createScriptedServer,
  type ScriptedServer,
  type ScriptedServerOptions,
} from './createScriptedServer.ts';
import { createFakeAudio, type FakeAudio, FakeAudioContext } from './fakeAudio.ts';

// Loaded now, not at the first start(): a test steps the scripted server synchronously.
provideEngine(engine);

export interface TestConversation {
  conversation: Conversation;
  server: ScriptedServer;
  audio: FakeAudio;
}

/**
 * A conversation wired to a scripted server and fake audio: no network, no microphone, no
 * AudioContext. For tests and Storybook stories:
 *
 * ```ts
 * const { conversation, server } = createTestConversation();
 * await conversation.start();
 * server.greet('Hello! How can I help?');
 * server.userSays('What time is it?');
 * ```
 */
export function createTestConversation(
  options: Partial<ConversationOptions> & { server?: ScriptedServerOptions } = {},
): TestConversation {
  const { server: serverOptions, ...conversationOptions } = options;
  const server = createScriptedServer(serverOptions);
  const audio = createFakeAudio();
  const agentId = conversationOptions.agentId ?? 'test-agent';
  const conversation = createConversation({
    agentId,
    url: 'ws://scripted.test/v1/talk',
    // PlayAI's talk protocol, as the default would be, but loaded now: a test steps the scripted
    // server synchronously and must not wait for the default provider's lazy import.
    provider: {
      name: 'playai',
      start: (start) =>
        startPlayAI(
          {
            agentId,
            ...(conversationOptions.customGreeting !== undefined
              ? { customGreeting: conversationOptions.customGreeting }
              : {}),
            ...(conversationOptions.prompt !== undefined ? { prompt: conversationOptions.prompt } : {}),
          },
          start,
        ),
    },
    AudioContext: FakeAudioContext as unknown as typeof AudioContext,
    ...conversationOptions,
    WebSocket: conversationOptions.WebSocket ?? server.WebSocket,
    audio: conversationOptions.audio ?? audio.factories,
  });
  return { conversation, server, audio };
}
