/**
 * A microphone for SDKs that run in Node: 16-bit PCM frames handed to `send` at real time, as a
 * capture worklet would produce them, silence unless something was queued with `say`. Real-time
 * pacing matters: the agent's detector measures silence in audio time and its watchdog in wall
 * time.
 */
import { floatToPcm16, pcm16ToBytes } from '@voicewire/core';

export interface PacedMicrophone {
  /** Queue `samples` (at the microphone's rate) after what is already queued. */
  say(samples: Float32Array): void;
  /** Whether queued speech is still being sent. */
  readonly speaking: boolean;
  stop(): void;
}

export function startPacedMicrophone(
  send: (pcm16: ArrayBuffer) => void,
  sampleRate: number,
  frameMs = 40,
): PacedMicrophone {
  const frame = Math.round((sampleRate * frameMs) / 1000);
  const queue: Float32Array[] = [];
  let offset = 0;
  const startedAt = performance.now();
  let sent = 0;
  const next = (): Float32Array => {
    const out = new Float32Array(frame);
    let filled = 0;
    while (filled < frame && queue.length > 0) {
      const head = queue[0]!;
      const take = Math.min(frame - filled, head.length - offset);
      out.set(head.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (offset >= head.length) {
        queue.shift();
        offset = 0;
      }
    }
    return out;
  };
  const timer = setInterval(() => {
    // Catch up on frames that are due: a timer that fires late must not slow the audio down.
    const due = Math.floor((performance.now() - startedAt) / frameMs);
    while (sent < due) {
      const bytes = pcm16ToBytes(floatToPcm16(next()));
      send(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      sent++;
    }
  }, frameMs / 2);
  return {
    say(samples) {
      queue.push(samples);
    },
    get speaking() {
      return queue.length > 0;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Speech peaking at -6 dBFS: loud enough for any detector, never clipped. */
export function normalise(samples: Float32Array): Float32Array {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  return peak === 0 ? samples : samples.map((s) => (s * 0.5) / peak);
}
