export {
  AgentConversationProvider,
  type AgentConversationProviderProps,
  useAgentConversationContext,
} from './AgentConversationProvider.tsx';
export { AudioLevel, type AudioLevelProps, levelToFraction } from './AudioLevel.tsx';
export { composeEventHandlers } from './composeEventHandlers.ts';
export { createLazyConversation, IDLE_STATE, isLiveStatus } from './createLazyConversation.ts';
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
export { type UseAgentConversationOptions, useAgentConversation } from './useAgentConversation.ts';
export type { ConversationBindingProps } from './useBoundConversation.ts';
export { type AgentConversation, type ConversationControls, useConversation } from './useConversation.ts';
export { useConversationState } from './useConversationState.ts';
