/**
 * Microphone stand-ins for the agent's tests: cut a signal into `audioIn` frames in a given
 * encoding and send them at real time, as a browser capturing 20 ms frames would.
 */
import { encodeBase64, floatToPcm16, mulawEncode, pcm16ToBytes } from '@voicewire/core';
import { encodeWav16 } from '../../../../testing/audio.ts';
import type { TestClient } from './client.ts';

export function silence(seconds: number, sampleRate: number): Float32Array {
  return new Float32Array(Math.round(seconds * sampleRate));
}

/** `samples` as base64 `audioIn` payloads of `frameMs` each. */
export function frames(
  samples: Float32Array,
  sampleRate: number,
  encoding: 'linear16' | 'mulaw',
  frameMs = 20,
): string[] {
  const size = Math.round((sampleRate * frameMs) / 1000);
  const out: string[] = [];
  for (let i = 0; i < samples.length; i += size) {
    const pcm = floatToPcm16(samples.subarray(i, Math.min(samples.length, i + size)));
    out.push(encodeBase64(encoding === 'linear16' ? pcm16ToBytes(pcm) : mulawEncode(pcm)));
  }
  return out;
}

/** A WAV stream cut into frames: the first carries the header, the rest are the PCM that follows. */
export function wavFrames(samples: Float32Array, sampleRate: number, frameMs = 20): string[] {
  const wav = encodeWav16(samples, sampleRate);
  const size = Math.round((sampleRate * frameMs) / 1000) * 2;
  const out: string[] = [encodeBase64(wav.subarray(0, 44 + size))];
  for (let i = 44 + size; i < wav.length; i += size)
    out.push(encodeBase64(wav.subarray(i, Math.min(wav.length, i + size))));
  return out;
}

export interface Sender {
  /** Frames sent so far. */
  readonly sent: number;
  /** Resolves when every frame has been sent (or the socket closed). */
  done: Promise<void>;
  stop(): void;
}

/**
 * Send `payloads` as `audioIn` messages (or whatever `message` wraps them in: another protocol's
 * audio message), one every `frameMs`, on a drift-free schedule.
 */
export function sendInRealTime(
  client: TestClient,
  payloads: string[],
  frameMs = 20,
  message: (data: string) => unknown = (data) => ({ type: 'audioIn', data }),
): Sender {
  let sent = 0;
  let stopped = false;
  const start = performance.now();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const step = () => {
    if (stopped || client.ws.readyState !== client.ws.OPEN) {
      finish();
      return;
    }
    // Catch up if the timer ran late, as a capture thread with a queue would.
    const due = Math.min(payloads.length, Math.floor((performance.now() - start) / frameMs) + 1);
    while (sent < due) client.send(message(payloads[sent++]!));
    if (sent >= payloads.length) {
      finish();
      return;
    }
    setTimeout(step, Math.max(1, start + sent * frameMs - performance.now()));
  };
  step();
  return {
    get sent() {
      return sent;
    },
    done,
    stop() {
      stopped = true;
    },
  };
}
