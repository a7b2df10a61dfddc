// From @voicewire/core, so that a React app needs no second import but its provider's: the
// conversation for sharing one made outside React, and the types of what the hooks return and take.
export type {
  AudioDevice,
  AudioDeviceKind,
  AudioFormat,
  CaptureEncoding,
  PlayerStats,
  Provider,
  VoicewireErrorKind,
  WorkletSource,
} from '@voicewire/core';
export {
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
  createConversation,
  type DisconnectReason,
  type ReadonlyStore,
  type ReconnectPolicy,
  type TranscriptTurn,
  type TurnTaking,
} from '@voicewire/core/conversation';
export {
  AgentConversationProvider,
  type AgentConversationProviderProps,
  type ConversationBindingProps,
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
export {
  type AgentConversation,
  type ConversationControls,
  type UseAgentConversationOptions,
  useAgentConversation,
} from './useAgentConversation.ts';
export { type AudioDevices, type UseAudioDevicesOptions, useAudioDevices } from './useAudioDevices.ts';
export { useConversationState } from './useConversationState.ts';
export { VoiceWidget, type VoiceWidgetProps } from './VoiceWidget.tsx';
