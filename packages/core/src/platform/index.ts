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
export {
  createWakeLock,
  type WakeLockEnvironment,
  type WakeLockHandle,
  type WakeLockState,
} from './wakeLock.ts';
