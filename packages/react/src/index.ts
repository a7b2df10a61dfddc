// From @voicewire/core, so that a React app needs no second import: the conversation for sharing
// one made outside React, the types of what the hooks return and take, and the format lists a
// settings form offers.
export {
  type CaptureEncoding,
  type Conversation,
  type ConversationCallbacks,
  type ConversationError,
  type ConversationEventMap,
  type ConversationInputOptions,
  type ConversationMode,
  type ConversationOptions,
  type ConversationOutputOptions,
  type ConversationState,
  type ConversationStats,
  type ConversationStatus,
  createConversation,
  DEFAULT_OUTPUT_FORMAT,
  DEFAULT_OUTPUT_SAMPLE_RATE_HZ,
  type DisconnectReason,
  OUTPUT_FORMATS,
  type OutputFormat,
  type PlayerStats,
  type ReconnectPolicy,
  type TranscriptTurn,
  type VoicewireErrorKind,
  type WorkletSource,
} from '@voicewire/core';
export {
  AgentConversationProvider,
  type AgentConversationProviderProps,
  type ConversationBindingProps,
  useAgentConversationContext,
} from './AgentConversationProvider.tsx';
export { AudioLevel, type AudioLevelProps, levelToFraction } from './AudioLevel.tsx';
export { TalkButton, type TalkButtonProps, type TalkButtonRenderState } from './TalkButton.tsx';
export {
  DEFAULT_TRANSCRIPT_LABELS,
  Transcript,
  type TranscriptLabels,
  type TranscriptProps,
} from './Transcript.tsx';
export {
  DEFAULT_TALK_BUTTON_LABELS,
  getTalkButtonState,
  isTalkButtonPressed,
  TALK_BUTTON_STATES,
  type TalkButtonLabels,
  type TalkButtonState,
} from './talkButtonState.ts';
export {
  type AgentConversation,
  type ConversationControls,
  type UseAgentConversationOptions,
  useAgentConversation,
} from './useAgentConversation.ts';
export { useConversationState } from './useConversationState.ts';
