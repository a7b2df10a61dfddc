/**
 * The port protocol between the main thread and the two worklets. Both sides import this module
 * (the worklet bundles inline it), so a renamed message breaks the build instead of silently
 * going unheard.
 */

import type { EchoGuardTuning } from './echoGuardTuning.ts';

/** Names passed to `registerProcessor` / `new AudioWorkletNode`. */
export const CAPTURE_PROCESSOR_NAME = 'voicewire-capture';
export const PLAYER_PROCESSOR_NAME = 'voicewire-player';

/** Frames per render quantum (fixed by the Web Audio spec until `renderSizeHint` ships). */
export const RENDER_QUANTUM_FRAMES = 128;

/** How often a worklet reports levels when it cannot share memory, in milliseconds. */
export const LEVEL_REPORT_MS = 50;

/**
 * Slots of the shared level buffer (a `Float32Array` over a `SharedArrayBuffer`, used when the
 * page is cross-origin isolated): the audio thread writes, the main thread reads on demand. The
 * capture uses the first two; the player all six.
 */
export const LEVEL_SLOT = {
  rms: 0,
  peak: 1,
  bufferedFrames: 2,
  jitterTargetFrames: 3,
  underruns: 4,
  /** Frames of the current stream rendered so far (its played position), written every quantum. */
  playedFrames: 5,
} as const;
/** Length of the shared level buffer. */
export const LEVEL_SLOTS = Object.keys(LEVEL_SLOT).length;

// ---------------------------------------------------------------------------------------------
// Capture

export interface CaptureProcessorOptions {
  /** Wire sample rate, Hz. */
  wireRate: number;
  encoding: 'linear16' | 'mulaw';
  /** Samples per frame at the wire rate. */
  frameSamples: number;
  muted: boolean;
  /** Shared level slots, when the page is cross-origin isolated. */
  levelBuffer?: SharedArrayBuffer;
  /** Overrides of the echo guard's tuning (CaptureOptions.echoGuardTuning). */
  echoGuardTuning?: Partial<EchoGuardTuning>;
}

export type CaptureInMessage =
  | { type: 'mute'; muted: boolean }
  /** Another wire format from the next frame on (`Capture.setFormat`). */
  | { type: 'format'; wireRate: number; encoding: 'linear16' | 'mulaw'; frameSamples: number }
  /** The echo reference (the worklet's second input) was connected or disconnected. */
  | { type: 'echoReference'; connected: boolean }
  /** A frame buffer handed back for reuse, so the audio thread never allocates. */
  | { type: 'recycle'; buffer: ArrayBuffer }
  | { type: 'stop' };

export type CaptureOutMessage =
  | {
      type: 'frame';
      buffer: ArrayBuffer /** Context time at which the frame's last sample was captured. */;
      time: number;
      /** The echo guard's verdict: only the echo of the reference is in this frame. */
      echo: boolean;
    }
  | { type: 'level'; rms: number; peak: number };

// ---------------------------------------------------------------------------------------------
// Player

export interface PlayerProcessorOptions {
  /** Ring buffer size, in frames at the context rate. */
  capacityFrames: number;
  initialJitterFrames: number;
  maxJitterFrames: number;
  fadeFrames: number;
  volume: number;
  levelBuffer?: SharedArrayBuffer;
}

export type PlayerInMessage =
  | { type: 'push'; generation: number; samples: Float32Array }
  /** Fade out and drop everything until the next `newStream`. */
  | { type: 'interrupt' }
  /** Fade out whatever still plays and accept `generation` from now on. */
  | { type: 'newStream'; generation: number }
  /** No more audio will come for `generation`: an empty buffer after this is `drained`, not an underrun. */
  | { type: 'endStream'; generation: number }
  | { type: 'volume'; volume: number }
  | { type: 'stop' };

export type PlayerOutMessage =
  /** The first sample of `generation` was rendered at context frame `frame`. */
  | { type: 'started'; generation: number; frame: number }
  /** `pushes`: push messages received so far, so the main thread can tell a push still in flight from the end. */
  | { type: 'drained'; generation: number; frame: number; pushes: number }
  | { type: 'underrun'; generation: number; frame: number }
  /** The interrupt fade finished at context frame `frame`: the output is silent from here. */
  | { type: 'silenced'; frame: number }
  | {
      type: 'status';
      rms: number;
      peak: number;
      bufferedFrames: number;
      jitterTargetFrames: number;
      underruns: number;
      /** Frames of the current stream rendered so far (its played position). */
      playedFrames: number;
      /** Context frame at the end of the quantum measured. */
      frame: number;
    };
