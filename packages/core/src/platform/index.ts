export {
  type AudioDevice,
  type AudioDeviceKind,
  getMediaDevices,
  listAudioDevices,
  type MediaDevicesLike,
  resolveAudioDevice,
  supportsOutputDeviceSelection,
  watchAudioDevices,
} from './devices.ts';
// The wake lock itself loads with a dynamic import when a conversation starts (createConversation.ts);
// only its types are public.
export type { WakeLockEnvironment, WakeLockHandle, WakeLockState } from './wakeLock.ts';
