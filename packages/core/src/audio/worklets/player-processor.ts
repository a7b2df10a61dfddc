/**
 * The player worklet: plays mono samples at the context rate from a preallocated ring, with a
 * jitter buffer, a generation counter and a few-millisecond fade on interrupt. Built into a
 * single module string by scripts/build-worklets.ts.
 */
import {
  LEVEL_REPORT_MS,
  PLAYER_PROCESSOR_NAME,
  type PlayerInMessage,
  type PlayerProcessorOptions,
} from './messages.ts';
import { PlayerEngine } from './PlayerEngine.ts';
import { type WorkletProcessor, workletScope } from './workletScope.ts';

const scope = workletScope();

export class PlayerProcessor extends scope.AudioWorkletProcessor implements WorkletProcessor {
  readonly #engine: PlayerEngine;
  #stopped = false;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const init = options.processorOptions as PlayerProcessorOptions;
    this.#engine = new PlayerEngine({
      capacityFrames: init.capacityFrames,
      initialJitterFrames: init.initialJitterFrames,
      maxJitterFrames: init.maxJitterFrames,
      fadeFrames: init.fadeFrames,
      volume: init.volume,
      levelWindowFrames: Math.round((scope.sampleRate * LEVEL_REPORT_MS) / 1000),
      levels: init.levelBuffer ? new Float32Array(init.levelBuffer) : undefined,
      post: (message) => this.port.postMessage(message),
    });
    this.port.onmessage = (event: MessageEvent<PlayerInMessage>) => this.#receive(event.data);
  }

  #receive(message: PlayerInMessage): void {
    switch (message.type) {
      case 'push':
        this.#engine.push(message.generation, message.samples);
        break;
      case 'interrupt':
        this.#engine.interrupt(scope.currentFrame);
        break;
      case 'newStream':
        this.#engine.newStream(message.generation, scope.currentFrame);
        break;
      case 'endStream':
        this.#engine.endStream(message.generation);
        break;
      case 'volume':
        this.#engine.setVolume(message.volume);
        break;
      case 'stop':
        this.#stopped = true;
        this.port.onmessage = null;
        break;
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    // Returning false lets the browser collect the node once the main thread has let go.
    if (this.#stopped) return false;
    const channels = outputs[0];
    const first = channels?.[0];
    if (!channels || !first) return true;
    this.#engine.render(first, scope.currentFrame);
    for (let c = 1; c < channels.length; c++) channels[c]?.set(first);
    return true;
  }
}

scope.registerProcessor(PLAYER_PROCESSOR_NAME, PlayerProcessor);
