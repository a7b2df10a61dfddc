/**
 * `@voicewire/core/conversation`: the conversation alone, what the React bindings import. Kept
 * apart from the package's main entry so that a bundler that splits code (esbuild) does not load
 * at import the codecs and the resampler that the main entry also exports and the audio engine
 * uses later: with this entry they stay in the engine's lazy chunk.
 */
export { createConversation } from './createConversation.ts';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_RECONNECT_POLICY,
  MAX_SEND_BACKLOG_MS,
  PENDING_AUDIO_MS,
} from './defaults.ts';
export { isLiveStatus } from './lifecycle.ts';
export { DEFAULT_RELEASE_TAIL_MS } from './talkGate.ts';
export type {
  Conversation,
  ConversationAudio,
  ConversationCallbacks,
  ConversationError,
  ConversationEventMap,
  ConversationInputOptions,
  ConversationMode,
  ConversationOptions,
  ConversationOutputOptions,
  ConversationState,
  ConversationStats,
  ConversationStatus,
  DisconnectReason,
  ReadonlyStore,
  ReconnectPolicy,
  TranscriptTurn,
  TurnTaking,
} from './types.ts';
