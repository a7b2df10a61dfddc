/**
 * Typed access to the AudioWorkletGlobalScope. TypeScript's DOM lib has no worklet scope, and
 * declaring `sampleRate` or `registerProcessor` as globals would leak into every file of the
 * repository, so the processors reach them through `globalThis` instead.
 */
export interface WorkletProcessorBase {
  readonly port: MessagePort;
}

export interface WorkletProcessor extends WorkletProcessorBase {
  process(
    inputs: Float32Array[][],
    outputs: Float32Array[][],
    parameters: Record<string, Float32Array>,
  ): boolean;
}

export interface WorkletScope {
  AudioWorkletProcessor: new (options?: AudioWorkletNodeOptions) => WorkletProcessorBase;
  registerProcessor(
    name: string,
    processor: new (options: AudioWorkletNodeOptions) => WorkletProcessor,
  ): void;
  /** The context's sample rate. */
  readonly sampleRate: number;
  /** The context frame of the quantum being rendered. */
  readonly currentFrame: number;
  readonly currentTime: number;
}

export function workletScope(): WorkletScope {
  return globalThis as unknown as WorkletScope;
}
