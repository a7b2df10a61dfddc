/**
 * A spectrum tap for visualisers: an AnalyserNode fed from a point of the graph, allocated on the
 * first read (a page that never draws a spectrum never pays for the FFT), then read on demand
 * from `requestAnimationFrame`. Nothing is posted per frame and no store is written.
 */

import { FREQUENCY_FFT_SIZE } from './frequencyData.ts';

// Re-exported from their own module: the conversation reads silence before the engine loads, and a
// bundler puts a module shared with the lazy engine wholly in the import's chunks.
export { emptyFrequencyData, FREQUENCY_FFT_SIZE } from './frequencyData.ts';

export interface FrequencyTap {
  readonly binCount: number;
  /** Connect a source to the tap (several may be; each once). */
  connect(source: AudioNode): void;
  /** Fill `out` (or a new array of `binCount`) with the current spectrum, 0..255 per bin. */
  read(out?: Uint8Array): Uint8Array;
  /** Disconnect everything; reads return zeros from then on. */
  close(): void;
}

export function createFrequencyTap(context: BaseAudioContext): FrequencyTap {
  const analyser = context.createAnalyser();
  analyser.fftSize = FREQUENCY_FFT_SIZE;
  // Speech moves fast; a little smoothing keeps the bars from flickering at 60 fps.
  analyser.smoothingTimeConstant = 0.6;
  analyser.minDecibels = -90;
  analyser.maxDecibels = -20;
  // WebKit renders only nodes that reach the destination: an analyser hanging off the graph reads
  // nothing there. A silent sink (gain 0) pulls it in every engine without making it audible.
  const sink = context.createGain();
  sink.gain.value = 0;
  analyser.connect(sink);
  sink.connect(context.destination);
  const sources = new Set<AudioNode>();
  let closed = false;
  return {
    binCount: analyser.frequencyBinCount,
    connect(source) {
      if (closed || sources.has(source)) return;
      sources.add(source);
      source.connect(analyser);
    },
    read(out) {
      const target = out ?? new Uint8Array(analyser.frequencyBinCount);
      if (closed) {
        target.fill(0);
        return target;
      }
      analyser.getByteFrequencyData(target as Uint8Array<ArrayBuffer>);
      return target;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const source of sources) {
        try {
          source.disconnect(analyser);
        } catch {
          // Already disconnected (the source was stopped first).
        }
      }
      sources.clear();
      analyser.disconnect();
      sink.disconnect();
    },
  };
}
