import {
  createCapture,
  createPlayer,
  isVoicewireError,
  listAudioDevices,
  supportsOutputDeviceSelection,
} from '@voicewire/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import { tone } from '../../../../testing/audio.ts';
import type { MicrophoneCommands } from '../../../../testing/engineContext.ts';
import '../../../../testing/engineContext.ts';
import { float32Bytes, sleep } from './harness.ts';

/**
 * The raw microphone, its first audio awaited for up to 20 s: Firefox's PulseAudio input starts
 * late on a loaded machine (the 5 s default start timeout gives up with "sends no audio").
 */
const RAW_MIC = {
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
  startTimeoutMs: 20_000,
} as const;
const CONTEXT_RATE = 48_000;
/** Hz per bin of the 256-point analyser at 48 kHz. */
const BIN_HZ = CONTEXT_RATE / 256;

const contexts: AudioContext[] = [];
async function newContext(): Promise<AudioContext> {
  const context = new AudioContext({ sampleRate: CONTEXT_RATE });
  contexts.push(context);
  await context.resume();
  return context;
}
afterEach(async () => {
  for (const context of contexts.splice(0)) if (context.state !== 'closed') await context.close();
});

/** Mean spectrum of several reads (the fake mic may insert a short gap of zeros now and then). */
async function meanSpectrum(read: (out: Uint8Array) => Uint8Array, reads = 10): Promise<Float64Array> {
  const sum = new Float64Array(128);
  const out = new Uint8Array(128);
  for (let i = 0; i < reads; i++) {
    await sleep(30);
    read(out);
    for (let bin = 0; bin < out.length; bin++) sum[bin]! += out[bin]! / reads;
  }
  return sum;
}

/** The strongest bin of several reads and its mean value. */
async function strongestBin(read: (out: Uint8Array) => Uint8Array, reads = 10): Promise<[number, number]> {
  const sum = new Float64Array(128);
  const out = new Uint8Array(128);
  for (let i = 0; i < reads; i++) {
    await sleep(30);
    read(out);
    for (let bin = 0; bin < out.length; bin++) sum[bin]! += out[bin]!;
  }
  let best = 0;
  for (let bin = 1; bin < sum.length; bin++) if (sum[bin]! > sum[best]!) best = bin;
  return [best, sum[best]! / reads];
}

/** How long to wait for what must eventually happen: a browser's audio on a loaded machine. */
const EVENTUALLY_MS = 20_000;

/** Polls `check` every 20 ms until it holds; false if it never did within {@link EVENTUALLY_MS}. */
async function eventually(check: () => boolean): Promise<boolean> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > EVENTUALLY_MS) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Reads until the tap shows a signal. A tap is created on the first read; WebKit starts feeding a
 * newly connected AnalyserNode only after about half a second (measured: zeros for the first
 * 0.4–0.5 s, Chromium and Firefox at once), which a visualiser shows as a short fade-in.
 */
async function untilSignal(read: (out: Uint8Array) => Uint8Array): Promise<void> {
  const out = new Uint8Array(128);
  if (!(await eventually(() => read(out).some((v) => v > 0))))
    throw new Error(`the spectrum tap read nothing for ${EVENTUALLY_MS / 1000} s`);
}

describe('capture.getFrequencyData', () => {
  it('shows the fake microphone 1 kHz and 12 kHz tones in their bins, and zeros once stopped', async () => {
    const context = await newContext();
    const capture = await createCapture({ context, onFrame: () => {}, sampleRate: 16_000, ...RAW_MIC });
    await untilSignal((out) => capture.getFrequencyData!(out));
    const spectrum = await meanSpectrum((out) => capture.getFrequencyData!(out));
    const at = (hz: number) => spectrum[Math.round(hz / BIN_HZ)]!;
    expect(at(1000)).toBeGreaterThan(150);
    expect(at(12_000)).toBeGreaterThan(150);
    // Between the tones: the analyser's floor (a Blackman window's leakage is far below).
    for (const hz of [4000, 6000, 8000, 18_000]) expect(at(hz)).toBeLessThan(at(1000) - 100);
    capture.stop();
    expect(capture.getFrequencyData!(new Uint8Array(128)).every((v) => v === 0)).toBe(true);
  });

  // Every engine has two microphones: Chromium's fake devices (both play the test's WAV), and in
  // Firefox and WebKit the private PulseAudio's built-in microphone (the WAV) and a headset (a
  // quieter 600 Hz tone, testing/engines.ts), so there the level also tells which one is heard.
  it('switches the input device mid-call: frames keep coming from the new device, none lost', async () => {
    const engine = inject('engine');
    const context = await newContext();
    const stamps: number[] = [];
    const capture = await createCapture({
      context,
      sampleRate: 16_000,
      onFrame: (_frame, info) => stamps.push(info.captureTime),
      ...RAW_MIC,
    });
    const inputs = await listAudioDevices('audioinput');
    expect(inputs.length).toBeGreaterThanOrEqual(2);
    // Real labels: the permission is granted (a flag in Chromium, a preference in Firefox).
    expect(inputs.every((device) => !device.labelHidden)).toBe(true);
    const other =
      engine === 'chromium'
        ? inputs.find((device) => !device.isDefault)
        : inputs.find((device) => device.label === 'Headset_microphone');
    expect(other).toBeDefined();
    const framesSoon = async (count: number) => {
      const target = stamps.length + count;
      return eventually(() => stamps.length >= target);
    };
    // Which microphone is heard (not in Chromium, whose devices play the same WAV): the level
    // reaches the device's own (WebKit starts a new device with ~0.5 s of silence, and the level
    // reports lag on a loaded machine).
    const hears = async (device: 'built-in' | 'headset') => {
      if (engine === 'chromium') return true;
      const heard = (rms: number) => (device === 'headset' ? rms > 0.05 && rms < 0.09 : rms > 0.15);
      return eventually(() => heard(capture.getLevel().rms));
    };
    // Mid-call: the first device has been streaming for a while.
    await sleep(300);
    // The headset's tone: 0.1 peak, 0.071 RMS; the built-in microphone's WAV is far louder.
    expect(await hears('built-in')).toBe(true);
    await capture.setDevice(other!.deviceId);
    // setDevice resolves once the new device's frames flow.
    expect(await framesSoon(10)).toBe(true);
    expect(await hears('headset')).toBe(true);
    await capture.setDevice(undefined);
    expect(await framesSoon(10)).toBe(true);
    expect(await hears('built-in')).toBe(true);
    capture.stop();
    // One worklet, one clock: each frame is stamped one frame after the one before (to the
    // render quantum, 2.7 ms), and the whole run spans exactly its frame count: none was lost.
    // Firefox stops rendering at an input change until the capture restarts the graph
    // (setDevice's contract): its clock moves on by a few frames' worth around the restart with
    // no input to frame (40–60 ms measured per switch), so there the bound is on that loss.
    const steps = stamps.slice(1).map((t, i) => (t - stamps[i]!) * 1000);
    const span = (stamps.at(-1)! - stamps[0]!) * 1000;
    const lostMs = span - (stamps.length - 1) * 20;
    console.log(`${engine} setDevice ×2: ${lostMs.toFixed(1)} ms of the clock without frames`);
    expect(Math.min(...steps)).toBeGreaterThan(20 - 3);
    if (engine === 'firefox') {
      expect(Math.max(...steps)).toBeLessThan(150);
      expect(lostMs).toBeLessThan(300);
    } else {
      expect(Math.max(...steps)).toBeLessThan(20 + 3);
      expect(Math.abs(lostMs)).toBeLessThan(3);
    }
  });
});

describe('a microphone unplugged mid-call', () => {
  // Firefox and WebKit: the headset's source is removed from the private PulseAudio (a real
  // removal: the browser sees its device go). Chromium's fake devices cannot be removed: its track
  // ends the way Chromium ends one whose device is unplugged (stopped, then `ended`).
  it('falls back to the default microphone: frames keep coming and the built-in one is heard', async () => {
    const engine = inject('engine');
    const context = await newContext();
    const streams: MediaStream[] = [];
    const errors: string[] = [];
    let frames = 0;
    const capture = await createCapture({
      context,
      sampleRate: 16_000,
      onFrame: () => frames++,
      onError: (error) => errors.push(error.kind),
      getUserMedia: async (constraints) => {
        const stream = await navigator.mediaDevices.getUserMedia(constraints);
        streams.push(stream);
        return stream;
      },
      ...RAW_MIC,
    });
    const inputs = await listAudioDevices('audioinput');
    const headset =
      engine === 'chromium'
        ? inputs.find((device) => !device.isDefault)
        : inputs.find((device) => device.label === 'Headset_microphone');
    await capture.setDevice(headset!.deviceId);
    const headsetTrack = streams.at(-1)!.getAudioTracks()[0]!;
    const browserCommands = commands as unknown as MicrophoneCommands;
    try {
      if (engine === 'chromium') {
        headsetTrack.stop();
        headsetTrack.dispatchEvent(new Event('ended'));
      } else await browserCommands.unplugMicrophone('headset');
      // Firefox and Chromium end the track: the capture opens the default device. WebKit keeps
      // the track live and moves it to the default device itself (measured: no `ended`).
      const reopens = engine !== 'webkit';
      if (reopens) {
        await eventually(() => streams.length >= 3);
        expect(streams.length).toBe(3);
        expect(streams[2]!.getAudioTracks()[0]!.readyState).toBe('live');
      }
      const mark = frames;
      await eventually(() => frames >= mark + 10);
      expect(frames).toBeGreaterThanOrEqual(mark + 10);
      if (engine !== 'chromium') {
        // The built-in microphone's WAV, not the headset's quiet tone (testing/engines.ts).
        let level = 0;
        await eventually(() => {
          level = capture.getLevel().rms;
          return level > 0.15;
        });
        expect(level).toBeGreaterThan(0.15);
      }
      expect(headsetTrack.readyState).toBe(reopens ? 'ended' : 'live');
      expect(streams.length).toBe(reopens ? 3 : 2);
      expect(errors).toEqual([]);
    } finally {
      capture.stop();
      if (engine !== 'chromium') await browserCommands.plugMicrophone('headset');
    }
  });
});

describe('player.getFrequencyData and setOutputDevice', () => {
  it('shows a 3 kHz tone played by the agent in its bin', async () => {
    const context = await newContext();
    const player = await createPlayer({ format: 'raw', sampleRate: 24_000, context });
    player.newStream();
    player.enqueue(float32Bytes(tone(3000, 2, 24_000, 0.5)));
    await untilSignal((out) => player.getFrequencyData!(out));
    const [bin] = await strongestBin((out) => player.getFrequencyData!(out));
    expect(Math.abs(bin * BIN_HZ - 3000)).toBeLessThan(BIN_HZ);
    player.close();
    expect(player.getFrequencyData!().every((v) => v === 0)).toBe(true);
  });

  it('setOutputDevice: with setSinkId (Chromium) routes to the default output and refuses an unknown device; without it (Firefox, WebKit) says "unsupported"', async () => {
    const context = await newContext();
    const player = await createPlayer({ format: 'raw', sampleRate: 24_000, context });
    const refusal = (deviceId: string) =>
      player.setOutputDevice!(deviceId).then(
        () => null,
        (e: unknown) => e as { kind: string; fatal: boolean },
      );
    const selectable = inject('engine') === 'chromium';
    expect(supportsOutputDeviceSelection()).toBe(selectable);
    if (selectable) {
      await player.setOutputDevice!('default');
      const error = await refusal('no-such-device');
      expect(isVoicewireError(error)).toBe(true);
      expect(error).toMatchObject({ kind: 'invalid-options', fatal: false });
    } else {
      const error = await refusal('default');
      expect(isVoicewireError(error)).toBe(true);
      expect(error).toMatchObject({ kind: 'unsupported', fatal: false });
    }
    player.close();
  });
});
