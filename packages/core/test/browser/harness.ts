/**
 * Browser-side helpers for the audio tests: a recording tap (an AudioWorklet that keeps every
 * sample it is given, stamped with its context frame), base64, a seeded random chunker and the
 * signal measurements the assertions use.
 */

const RECORDER_SOURCE = `
class TestRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(2048);
    this.fill = 0;
    this.first = -1;
    this.running = true;
    this.port.onmessage = () => { this.flush(); this.running = false; this.port.postMessage({ done: true }); };
  }
  flush() {
    if (this.fill === 0) return;
    const samples = this.block.slice(0, this.fill);
    this.port.postMessage({ frame: this.first, samples }, [samples.buffer]);
    this.fill = 0;
  }
  process(inputs) {
    if (!this.running) return false;
    const channel = inputs[0] && inputs[0][0];
    if (this.fill > 0 && currentFrame !== this.first + this.fill) this.flush();
    if (this.fill === 0) this.first = currentFrame;
    for (let i = 0; i < 128; i++) this.block[this.fill + i] = channel ? channel[i] : 0;
    this.fill += 128;
    if (this.fill === this.block.length) this.flush();
    return true;
  }
}
registerProcessor('voicewire-test-recorder', TestRecorder);
`;

export interface Recording {
  /** Context frame of `samples[0]`. */
  startFrame: number;
  /**
   * Every rendered quantum, back to back. When the machine is too busy, Chromium skips render
   * quanta (the context's frame counter jumps); nothing was rendered there, by the player or
   * anyone, so the samples are joined rather than padded with silence.
   */
  samples: Float32Array;
  /** Context frame of each sample. */
  frames: Float64Array;
  /** Frames the host skipped (render quanta that never ran). */
  skippedFrames: number;
}

export interface Recorder {
  /** Pass this as the player's `destination`. */
  input: AudioNode;
  stop(): Promise<Recording>;
}

export async function createRecorder(context: AudioContext): Promise<Recorder> {
  const url = URL.createObjectURL(new Blob([RECORDER_SOURCE], { type: 'text/javascript' }));
  await context.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const input = context.createGain();
  const node = new AudioWorkletNode(context, 'voicewire-test-recorder', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: 'explicit',
  });
  input.connect(node);
  node.connect(context.destination);
  const blocks: { frame: number; samples: Float32Array }[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  node.port.onmessage = (event) => {
    if (event.data.done) done();
    else blocks.push(event.data);
  };
  return {
    input,
    async stop() {
      node.port.postMessage('stop');
      await finished;
      node.disconnect();
      input.disconnect();
      const startFrame = blocks[0]?.frame ?? 0;
      const length = blocks.reduce((n, block) => n + block.samples.length, 0);
      const samples = new Float32Array(length);
      const frames = new Float64Array(length);
      let offset = 0;
      let expected = startFrame;
      let skippedFrames = 0;
      for (const block of blocks) {
        samples.set(block.samples, offset);
        for (let i = 0; i < block.samples.length; i++) frames[offset + i] = block.frame + i;
        offset += block.samples.length;
        skippedFrames += block.frame - expected;
        expected = block.frame + block.samples.length;
      }
      return { startFrame, samples, frames, skippedFrames };
    },
  };
}

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A deterministic PRNG (mulberry32), so a failing chunking can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cut `bytes` into chunks of random sizes in 1..maxChunk (odd sizes included). */
export function randomChunks(bytes: Uint8Array, seed: number, maxChunk: number): Uint8Array[] {
  const random = seededRandom(seed);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  return chunks;
}

export function waitFor<T>(
  subscribe: (resolve: (value: T) => void) => () => void,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe((value) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** Index of the first sample whose magnitude exceeds `threshold`, or -1. */
export function firstAbove(samples: Float32Array, threshold: number, from = 0): number {
  for (let i = from; i < samples.length; i++) if (Math.abs(samples[i]!) > threshold) return i;
  return -1;
}

export function lastAbove(samples: Float32Array, threshold: number): number {
  for (let i = samples.length - 1; i >= 0; i--) if (Math.abs(samples[i]!) > threshold) return i;
  return -1;
}

/**
 * `signal` measured against a sine of `frequencyHz`, block by block: each block is fitted by
 * least squares with a·sin + b·cos + c, and the residual's RMS relative to the fitted sine's RMS
 * is returned in dB, one value per block. A gap, a repeated or skipped sample, or a click shows
 * up as a block whose residual stands far above the others (which hold only codec noise).
 */
export function sineResidualsDb(
  signal: Float32Array,
  frequencyHz: number,
  sampleRate: number,
  block: number,
): number[] {
  const residuals: number[] = [];
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let start = 0; start + block <= signal.length; start += block) {
    // Normal equations for [sin, cos, 1].
    let ss = 0;
    let sc = 0;
    let s1 = 0;
    let cc = 0;
    let c1 = 0;
    let n = 0;
    let ys = 0;
    let yc = 0;
    let y1 = 0;
    for (let i = 0; i < block; i++) {
      const s = Math.sin(w * (start + i));
      const c = Math.cos(w * (start + i));
      const y = signal[start + i]!;
      ss += s * s;
      sc += s * c;
      s1 += s;
      cc += c * c;
      c1 += c;
      n += 1;
      ys += y * s;
      yc += y * c;
      y1 += y;
    }
    const [a, b, k] = solve3([ss, sc, s1, sc, cc, c1, s1, c1, n], [ys, yc, y1]);
    let residual = 0;
    for (let i = 0; i < block; i++) {
      const fit = a * Math.sin(w * (start + i)) + b * Math.cos(w * (start + i)) + k;
      residual += (signal[start + i]! - fit) ** 2;
    }
    const sineRms = Math.hypot(a, b) / Math.SQRT2;
    residuals.push(20 * Math.log10(Math.sqrt(residual / block) / Math.max(sineRms, 1e-12)));
  }
  return residuals;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function solve3(m: number[], v: number[]): [number, number, number] {
  const [a, b, c, d, e, f, g, h, i] = m as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const [p, q, r] = v as [number, number, number];
  const x = (p * (e * i - f * h) - b * (q * i - f * r) + c * (q * h - e * r)) / det;
  const y = (a * (q * i - f * r) - p * (d * i - f * g) + c * (d * r - q * g)) / det;
  const z = (a * (e * r - q * h) - b * (d * r - q * g) + p * (d * h - e * g)) / det;
  return [x, y, z];
}

/** Little-endian float32 bytes: the protocol's `raw` format, made in the page. */
export function float32Bytes(samples: Float32Array): Uint8Array {
  return new Uint8Array(samples.slice().buffer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How many frames are missing from, or extra in, a run of capture frames, from the context time
 * each was stamped with (`captureTime`, the end of the render quantum that completed it). Frames
 * are `frameMs` apart; a stamp can move by up to one render quantum (128 frames, 2.7 ms at
 * 48 kHz), never by half a frame, so each interval rounds to the number of frames it spans: 1
 * for back-to-back frames, 2 where one was dropped, 0 for a duplicate. Counting frames against
 * elapsed audio this way catches a dropped frame that a periodic test tone would hide.
 */
export function frameContinuity(times: number[], frameMs: number): { missing: number; extra: number } {
  let missing = 0;
  let extra = 0;
  for (let i = 1; i < times.length; i++) {
    const spans = Math.round(((times[i]! - times[i - 1]!) * 1000) / frameMs);
    if (spans > 1) missing += spans - 1;
    if (spans < 1) extra += 1;
  }
  return { missing, extra };
}
