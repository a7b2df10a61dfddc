import { VoicewireError } from '../errors.ts';

/**
 * Audio devices: list them, follow hot-plug (`devicechange`), fall back when the chosen one
 * disappears, and tell whether output can be routed at all. No browser global is read at module
 * scope (safe to import during server-side rendering).
 */

export type AudioDeviceKind = 'audioinput' | 'audiooutput';

export interface AudioDevice {
  deviceId: string;
  kind: AudioDeviceKind;
  /**
   * The browser's label; before the user has granted the microphone browsers hide labels, and
   * this is a numbered stand-in (`Microphone 1`, `Speaker 2`).
   */
  label: string;
  groupId: string;
  /** The browser's own label is hidden until the microphone permission is granted. */
  labelHidden: boolean;
  /** The system default (`deviceId` `"default"` in Chromium, or the first one listed). */
  isDefault: boolean;
}

export type MediaDevicesLike = Pick<MediaDevices, 'enumerateDevices'> &
  Partial<Pick<MediaDevices, 'addEventListener' | 'removeEventListener' | 'getUserMedia'>>;

/** The page's `navigator.mediaDevices`, or undefined (server rendering, insecure context). */
export function getMediaDevices(): MediaDevicesLike | undefined {
  if (typeof navigator === 'undefined') return undefined;
  return navigator.mediaDevices ?? undefined;
}

/** Whether the browser can route audio to a chosen output (`AudioContext.prototype.setSinkId`). */
export function supportsOutputDeviceSelection(): boolean {
  const Ctor = (globalThis as { AudioContext?: unknown }).AudioContext;
  if (typeof Ctor !== 'function') return false;
  return typeof (Ctor.prototype as { setSinkId?: unknown } | undefined)?.setSinkId === 'function';
}

/** The devices of one kind, in the browser's order, with stand-in labels where labels are hidden. */
export async function listAudioDevices(
  kind: AudioDeviceKind,
  mediaDevices: MediaDevicesLike | undefined = getMediaDevices(),
): Promise<AudioDevice[]> {
  if (mediaDevices?.enumerateDevices === undefined) {
    throw new VoicewireError({
      kind: 'unsupported',
      message: 'This browser cannot list audio devices (it needs a secure context: https or localhost).',
    });
  }
  const all = await mediaDevices.enumerateDevices();
  // One entry per device: Firefox lists two PulseAudio devices with the same description (and
  // so the same id) twice.
  const seen = new Set<string>();
  const ofKind = all.filter((device) => {
    if (device.kind !== kind) return false;
    if (device.deviceId === '') return true;
    if (seen.has(device.deviceId)) return false;
    seen.add(device.deviceId);
    return true;
  });
  const noun = kind === 'audioinput' ? 'Microphone' : 'Speaker';
  const hasDefault = ofKind.some((device) => device.deviceId === 'default');
  return ofKind.map((device, index) => ({
    deviceId: device.deviceId,
    kind,
    label: device.label || `${noun} ${index + 1}`,
    groupId: device.groupId,
    labelHidden: device.label === '',
    isDefault: hasDefault ? device.deviceId === 'default' : index === 0,
  }));
}

/**
 * Calls `listener` with the fresh list whenever devices are plugged in or out. Returns the
 * unsubscribe function. Errors while listing are passed to `onError` (the list is then left as it was).
 */
export function watchAudioDevices(
  kind: AudioDeviceKind,
  listener: (devices: AudioDevice[]) => void,
  options: { mediaDevices?: MediaDevicesLike | undefined; onError?: (error: unknown) => void } = {},
): () => void {
  const mediaDevices = 'mediaDevices' in options ? options.mediaDevices : getMediaDevices();
  if (mediaDevices?.addEventListener === undefined) return () => {};
  let active = true;
  const onChange = () => {
    listAudioDevices(kind, mediaDevices).then(
      (devices) => {
        if (active) listener(devices);
      },
      (error: unknown) => {
        if (active) options.onError?.(error);
      },
    );
  };
  mediaDevices.addEventListener('devicechange', onChange);
  return () => {
    active = false;
    mediaDevices.removeEventListener?.('devicechange', onChange);
  };
}

/**
 * The device to use: `preferredId` while it is listed, else the system default (empty string
 * when the list is empty or labels are hidden, meaning "let the browser choose").
 */
export function resolveAudioDevice(devices: readonly AudioDevice[], preferredId: string | undefined): string {
  if (preferredId && devices.some((device) => device.deviceId === preferredId)) return preferredId;
  return devices.find((device) => device.isDefault && device.deviceId !== '')?.deviceId ?? '';
}
