/*
 * @voicewire/core: what the package README documents, and nothing else. Internals (the turn-taking
 * table, the talk gate, transcript merging…) are tested through their modules, not exported.
 * Providers are their own entry points: `@voicewire/core/playai`, `/openai`, `/elevenlabs`.
 */

// The audio engine (loaded on first use) and the AudioContext
export {
  type AudioContextController,
  type AudioContextControllerOptions,
  createAudioContextController,
} from './audio/createAudioContextController.ts';
export { createFrequencyTap, FREQUENCY_FFT_SIZE, type FrequencyTap } from './audio/frequencyTap.ts';
export { createCapture, createPlayer } from './audio/lazyEngine.ts';
export { setContextOutputDevice } from './audio/outputDevice.ts';
export type {
  AudioLevelReading,
  Capture,
  CaptureFrameInfo,
  CaptureOptions,
  PlaybackPosition,
  Player,
  PlayerOptions,
  PlayerStats,
  WorkletSource,
} from './audio/types.ts';
// Codecs and DSP
export { Base64Error, decodeBase64, encodeBase64 } from './codec/base64.ts';
export { mulawDecode, mulawDecodeSample, mulawEncode, mulawEncodeSample } from './codec/mulaw.ts';
export {
  bytesToFloat32,
  bytesToPcm16,
  float32ToBytes,
  floatToPcm16,
  pcm16ToBytes,
  pcm16ToFloat,
} from './codec/pcm16.ts';
// The conversation
export {
  type Conversation,
  type ConversationAudio,
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
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_RECONNECT_POLICY,
  DEFAULT_RELEASE_TAIL_MS,
  type DisconnectReason,
  isLiveStatus,
  MAX_SEND_BACKLOG_MS,
  PENDING_AUDIO_MS,
  type ReadonlyStore,
  type ReconnectPolicy,
  type TranscriptTurn,
  type TurnTaking,
} from './conversation/index.ts';
export {
  createResampler,
  MAX_RESAMPLER_RATE_HZ,
  MIN_RESAMPLER_RATE_HZ,
  type Resampler,
  type ResamplerOptions,
} from './dsp/createResampler.ts';
// Errors
export {
  isVoicewireError,
  VoicewireError,
  type VoicewireErrorInit,
  type VoicewireErrorKind,
} from './errors.ts';
// Devices
export {
  type AudioDevice,
  type AudioDeviceKind,
  getMediaDevices,
  listAudioDevices,
  type MediaDevicesLike,
  resolveAudioDevice,
  supportsOutputDeviceSelection,
  watchAudioDevices,
} from './platform/devices.ts';
export type { WakeLockEnvironment, WakeLockHandle, WakeLockState } from './platform/wakeLock.ts';
// PlayAI's protocol helpers, kept here for code written before providers (also in @voicewire/core/playai)
export { describeErrorCode, ERROR_CODES, type ErrorCodeInfo } from './providers/playai/errorCodes.ts';
export { type ParsedServerMessage, parseServerMessage } from './providers/playai/parseServerMessage.ts';
// The provider seam (the interface every provider implements; the providers are entry points)
export type {
  AudioFormat,
  BargeIn,
  CaptureEncoding,
  CloseDecision,
  OutgoingFrame,
  Provider,
  ProviderCredentials,
  ProviderError,
  ProviderEvent,
  ProviderSession,
  ProviderSocket,
  ProviderStartOptions,
  WireInputFormat,
  WireOutputFormat,
} from './providers/types.ts';
export { AUDIO_FORMATS, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from './providers/types.ts';
