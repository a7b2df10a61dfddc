/**
 * `@voicewire/core/testing`: in-memory stand-ins for the network and the audio engine, for
 * tests, Storybook stories and fuzzers. Nothing here touches a browser global at import.
 */

export {
  createScriptedServer,
  type ScriptedServer,
  type ScriptedServerOptions,
} from './createScriptedServer.ts';
export { createTestConversation, type TestConversation } from './createTestConversation.ts';
export { FakeWebSocket, type SentFrame } from './FakeWebSocket.ts';
export {
  createFakeAudio,
  createFakeCapture,
  createFakePlayer,
  type FakeAudio,
  FakeAudioContext,
  type FakeCapture,
  type FakePlayer,
} from './fakeAudio.ts';
