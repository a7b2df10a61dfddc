'use client';
import {
  type AudioDevice,
  type AudioDeviceKind,
  getMediaDevices,
  listAudioDevices,
  type MediaDevicesLike,
  supportsOutputDeviceSelection,
  watchAudioDevices,
} from '@voicewire/core';
import { useCallback, useEffect, useRef, useState } from 'react';

export interface UseAudioDevicesOptions {
  /** Injectable for tests and stories. @defaultValue navigator.mediaDevices */
  mediaDevices?: MediaDevicesLike;
  /** Whether output can be routed; injectable for stories. @defaultValue supportsOutputDeviceSelection() */
  outputSelectable?: boolean;
}

export interface AudioDevices {
  /** The devices of this kind, in the browser's order; empty until the first listing. */
  devices: readonly AudioDevice[];
  /**
   * `loading` before the first listing (and during server rendering); `ready`; `unsupported`
   * when the browser cannot list devices or (for `audiooutput`) cannot route output at all.
   */
  status: 'loading' | 'ready' | 'unsupported';
  /** Browsers hide device names until the microphone has been allowed once. */
  labelsHidden: boolean;
  /** List again (after the microphone was allowed, say). */
  refresh(): Promise<void>;
  /**
   * Ask for the microphone (and let it go at once) so that the browser reveals device names.
   * Resolves false when refused.
   */
  requestPermission(): Promise<boolean>;
}

/**
 * The audio devices of one kind, kept current as devices are plugged in and out. Headless: the
 * data behind `<DeviceSelect>`, for a picker of your own.
 *
 * @example
 * const { devices, labelsHidden } = useAudioDevices('audioinput');
 */
export function useAudioDevices(kind: AudioDeviceKind, options: UseAudioDevicesOptions = {}): AudioDevices {
  const [devices, setDevices] = useState<readonly AudioDevice[]>([]);
  const [status, setStatus] = useState<AudioDevices['status']>('loading');
  const mediaDevicesRef = useRef(options.mediaDevices);
  mediaDevicesRef.current = options.mediaDevices;
  const outputSelectable = options.outputSelectable;
  const mounted = useRef(true);

  const refresh = useCallback(async () => {
    const media = mediaDevicesRef.current ?? getMediaDevices();
    if (kind === 'audiooutput' && !(outputSelectable ?? supportsOutputDeviceSelection())) {
      if (mounted.current) setStatus('unsupported');
      return;
    }
    try {
      const list = await listAudioDevices(kind, media);
      if (!mounted.current) return;
      setDevices((previous) => (sameDevices(previous, list) ? previous : list));
      setStatus('ready');
    } catch {
      if (mounted.current) setStatus('unsupported');
    }
  }, [kind, outputSelectable]);

  const requestPermission = useCallback(async () => {
    const media = mediaDevicesRef.current ?? getMediaDevices();
    if (media?.getUserMedia === undefined) return false;
    try {
      const stream = await media.getUserMedia({ audio: true });
      for (const track of stream.getTracks()) track.stop();
    } catch {
      return false;
    }
    await refresh();
    return true;
  }, [refresh]);

  useEffect(() => {
    mounted.current = true;
    void refresh();
    const media = mediaDevicesRef.current ?? getMediaDevices();
    const unwatch = watchAudioDevices(
      kind,
      (list) => {
        if (mounted.current) setDevices((previous) => (sameDevices(previous, list) ? previous : list));
      },
      { mediaDevices: media },
    );
    return () => {
      mounted.current = false;
      unwatch();
    };
  }, [kind, refresh]);

  return {
    devices,
    status,
    labelsHidden: devices.length > 0 && devices.every((device) => device.labelHidden),
    refresh,
    requestPermission,
  };
}

function sameDevices(a: readonly AudioDevice[], b: readonly AudioDevice[]): boolean {
  return (
    a.length === b.length &&
    a.every((device, i) => device.deviceId === b[i]!.deviceId && device.label === b[i]!.label)
  );
}
