import type { MediaDevicesLike } from '@voicewire/core';

/** A stand-in for `navigator.mediaDevices` with the given devices (a story cannot plug hardware). */
export function storyMediaDevices(labelled: boolean): MediaDevicesLike {
  const device = (kind: MediaDeviceKind, deviceId: string, label: string) =>
    ({
      kind,
      deviceId: labelled ? deviceId : '',
      label: labelled ? label : '',
      groupId: '',
    }) as MediaDeviceInfo;
  const devices = [
    device('audioinput', 'default', 'Default - MacBook Pro Microphone'),
    device('audioinput', 'usb-headset', 'Jabra Evolve2 65'),
    device('audioinput', 'webcam', 'Logitech BRIO'),
    device('audiooutput', 'default', 'Default - MacBook Pro Speakers'),
    device('audiooutput', 'usb-headset', 'Jabra Evolve2 65'),
  ];
  return {
    enumerateDevices: async () =>
      labelled ? devices : devices.filter((d, i, all) => all.findIndex((x) => x.kind === d.kind) === i),
    addEventListener: () => {},
    removeEventListener: () => {},
    getUserMedia: async () => new MediaStream(),
  };
}
