import { listAudioDevices, resolveAudioDevice, watchAudioDevices } from '@voicewire/core';
import { describe, expect, it } from 'vitest';

function device(kind: MediaDeviceKind, deviceId: string, label: string): MediaDeviceInfo {
  return { kind, deviceId, label, groupId: `g-${deviceId}`, toJSON: () => ({}) } as MediaDeviceInfo;
}

function fakeMediaDevices(initial: MediaDeviceInfo[]) {
  let list = initial;
  const listeners = new Set<() => void>();
  return {
    enumerateDevices: async () => list,
    addEventListener: (_: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_: string, listener: () => void) => listeners.delete(listener),
    plug(next: MediaDeviceInfo[]) {
      list = next;
      for (const listener of listeners) listener();
    },
    listeners,
  } as unknown as MediaDevices & { plug(next: MediaDeviceInfo[]): void; listeners: Set<() => void> };
}

describe('audio devices', () => {
  it('lists one kind, with numbered labels while the browser hides them', async () => {
    const media = fakeMediaDevices([
      device('audioinput', '', ''),
      device('audioinput', '', ''),
      device('audiooutput', '', ''),
      device('videoinput', '', ''),
    ]);
    const inputs = await listAudioDevices('audioinput', media);
    expect(inputs.map((d) => d.label)).toEqual(['Microphone 1', 'Microphone 2']);
    expect(inputs.every((d) => d.labelHidden)).toBe(true);
    expect((await listAudioDevices('audiooutput', media)).map((d) => d.label)).toEqual(['Speaker 1']);
  });

  it('lists a device the browser reports twice once (Firefox: two devices with one description)', async () => {
    const media = fakeMediaDevices([
      device('audioinput', 'mic', 'Built-in'),
      device('audioinput', 'monitor', 'Monitor of Null Output'),
      device('audioinput', 'monitor', 'Monitor of Null Output'),
    ]);
    const inputs = await listAudioDevices('audioinput', media);
    expect(inputs.map((d) => d.deviceId)).toEqual(['mic', 'monitor']);
  });

  it('follows hot-plug and falls back to the default when the chosen device goes away', async () => {
    const media = fakeMediaDevices([
      device('audioinput', 'default', 'Default - Built-in'),
      device('audioinput', 'usb', 'USB headset'),
    ]);
    const seen: string[][] = [];
    const unwatch = watchAudioDevices('audioinput', (list) => seen.push(list.map((d) => d.deviceId)), {
      mediaDevices: media,
    });
    const devices = await listAudioDevices('audioinput', media);
    expect(devices[0]!.isDefault).toBe(true);
    expect(resolveAudioDevice(devices, 'usb')).toBe('usb');
    media.plug([device('audioinput', 'default', 'Default - Built-in')]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen).toEqual([['default']]);
    expect(resolveAudioDevice(await listAudioDevices('audioinput', media), 'usb')).toBe('default');
    unwatch();
    expect(media.listeners.size).toBe(0);
  });

  it('a browser that cannot list devices gets a structured error', async () => {
    await expect(listAudioDevices('audioinput', undefined)).rejects.toMatchObject({ kind: 'unsupported' });
  });
});
