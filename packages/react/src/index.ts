export {
  AgentConversationProvider,
  type AgentConversationProviderProps,
  useAgentConversationContext,
} from './AgentConversationProvider.tsx';
export { AudioLevel, type AudioLevelProps, levelToFraction } from './AudioLevel.tsx';
export { AudioVisualizer, type AudioVisualizerProps, spectrumToBars } from './AudioVisualizer.tsx';
export {
  ConversationStatus,
  type ConversationStatusLabels,
  type ConversationStatusProps,
  DEFAULT_CONVERSATION_STATUS_LABELS,
  getStatusAnnouncement,
} from './ConversationStatus.tsx';
export { composeEventHandlers } from './composeEventHandlers.ts';
export { createLazyConversation, IDLE_STATE, isLiveStatus } from './createLazyConversation.ts';
export { DeviceSelect, type DeviceSelectLabels, type DeviceSelectProps } from './DeviceSelect.tsx';
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
export { type AudioDevices, type UseAudioDevicesOptions, useAudioDevices } from './useAudioDevices.ts';
export type { ConversationBindingProps } from './useBoundConversation.ts';
export { type AgentConversation, type ConversationControls, useConversation } from './useConversation.ts';
export { useConversationState } from './useConversationState.ts';
export { VoiceWidget, type VoiceWidgetProps } from './VoiceWidget.tsx';
