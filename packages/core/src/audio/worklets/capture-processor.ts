/**
 * The capture worklet: microphone (context rate) → streaming anti-aliased resampler → linear16
 * or μ-law → exact-size frames posted as transferables, plus the input level. Built into a
 * single module string by scripts/build-worklets.ts.
 */
import { CaptureEngine } from './CaptureEngine.ts';
import {
  CAPTURE_PROCESSOR_NAME,
  type CaptureInMessage,
  type CaptureProcessorOptions,
  LEVEL_REPORT_MS,
  RENDER_QUANTUM_FRAMES,
} from './messages.ts';
import { type WorkletProcessor, workletScope } from './workletScope.ts';

const scope = workletScope();

export class CaptureProcessor extends scope.AudioWorkletProcessor implements WorkletProcessor {
  readonly #engine: CaptureEngine;
  #stopped = false;
  #muted = false;
  /** Fed while muted when the browser gives no input at all (Firefox for a disabled track). */
  readonly #silence = new Float32Array(RENDER_QUANTUM_FRAMES);

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const init = options.processorOptions as CaptureProcessorOptions;
    this.#engine = new CaptureEngine({
      contextRate: scope.sampleRate,
      wireRate: init.wireRate,
      encoding: init.encoding,
      frameSamples: init.frameSamples,
      muted: init.muted,
      levelWindowFrames: Math.round((scope.sampleRate * LEVEL_REPORT_MS) / 1000),
      levels: init.levelBuffer ? new Float32Array(init.levelBuffer) : undefined,
      maxBlockFrames: RENDER_QUANTUM_FRAMES,
      ...(init.echoGuardTuning ? { echoGuardTuning: init.echoGuardTuning } : {}),
      post: (message, transfer) => this.port.postMessage(message, transfer ?? []),
    });
    this.port.onmessage = (event: MessageEvent<CaptureInMessage>) => {
      const message = event.data;
      if (message.type === 'recycle') this.#engine.recycle(message.buffer);
      else if (message.type === 'mute') {
        this.#muted = message.muted;
        this.#engine.setMuted(message.muted);
      } else if (message.type === 'format') {
        this.#engine.setFormat(message);
      } else if (message.type === 'echoReference') {
        this.#engine.setReferenceConnected(message.connected);
      } else if (message.type === 'stop') {
        this.#stopped = true;
        this.port.onmessage = null;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false;
    // No channels: nothing is connected (between two devices); keep the node alive and wait. But
    // muted, the wire's frames of silence must keep their cadence: Firefox gives a disabled
    // track no channels at all.
    const channel = inputs[0]?.[0] ?? (this.#muted ? this.#silence : undefined);
    // The second input is the echo reference (what the speakers play), when connected.
    const reference = inputs[1]?.[0] ?? null;
    if (channel)
      this.#engine.process(channel, scope.currentTime + channel.length / scope.sampleRate, reference);
    return true;
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR_NAME, CaptureProcessor);
