export type { ElevenLabsFormat, GeminiGreeting, OpenAIGreeting } from './context.ts';
export type { ConversationRecord, ConversationTurn } from './conversationStore.ts';
export { type Fault, type ParseFaultsResult, parseFaults } from './faults.ts';
export type { ProtocolOptions } from './protocolOptions.ts';
export {
  type ApiKeyGrant,
  DEFAULT_GREETING,
  type LocalAgent,
  type LocalAgentOptions,
  startLocalAgent,
  TALK_PATH,
} from './startLocalAgent.ts';
export {
  createVoiceActivityDetector,
  type SpeechEndEvent,
  type SpeechStartEvent,
  type VoiceActivityDetector,
  type VoiceActivityDetectorOptions,
} from './vad.ts';
