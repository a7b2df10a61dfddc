/**
 * The page side of scripts/bench/audio-engine.ts, bundled by esbuild for Chromium, Firefox and
 * WebKit. Every figure is taken in the page: audio time from the rendered signal (a tap on what
 * the player sends to the destination, on the context clock) and wall time from performance.now().
 */
import {
  type AudioFormat,
  createCapture,
  createPlayer,
  decodeBase64,
  encodeBase64,
} from '../../packages/core/src/index.ts';

const RECORDER = `
class Tap extends AudioWorkletProcessor {
  constructor() { super(); this.first = -1; this.done = false; this.port.onmessage = () => { this.done = true; }; }
  process(inputs) {
    if (this.done) return false;
    const channel = inputs[0] && inputs[0][0];
    if (this.first < 0 && channel) {
      for (let i = 0; i < channel.length; i++) if (Math.abs(channel[i]) > 0.01) { this.first = currentFrame + i; this.port.postMessage({ audible: this.first }); break; }
    }
    return true;
  }
}
registerProcessor('bench-tap', Tap);
class LastLoud extends AudioWorkletProcessor {
  constructor() {
    super(); this.last = -1; this.done = false;
    this.port.onmessage = () => { this.port.postMessage({ last: this.last }); this.done = true; };
  }
  process(inputs) {
    if (this.done) return false;
    const channel = inputs[0] && inputs[0][0];
    if (channel) for (let i = 0; i < channel.length; i++) if (Math.abs(channel[i]) > 0.001) this.last = currentFrame + i;
    return true;
  }
}
registerProcessor('bench-last-loud', LastLoud);
`;

async function tap(
  context: AudioContext,
): Promise<{ input: AudioNode; audible: Promise<number>; close(): void }> {
  const url = URL.createObjectURL(new Blob([RECORDER], { type: 'text/javascript' }));
  await context.audioWorklet.addModule(url).catch(() => {});
  const input = context.createGain();
  const node = new AudioWorkletNode(context, 'bench-tap');
  input.connect(node);
  node.connect(context.destination);
  const audible = new Promise<number>((resolve) => {
    node.port.onmessage = (event) => resolve(event.data.audible as number);
  });
  return {
    input,
    audible,
    close() {
      node.port.postMessage('stop');
      node.disconnect();
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FirstAudioResult {
  /** Audio time from enqueue() to the first sample above -40 dBFS (includes the codec's own priming silence). */
  toAudibleMs: number;
  /** Wall time from enqueue() to the `started` event on the main thread. */
  toStartedEventMs: number;
}

async function firstAudio(
  format: AudioFormat,
  sampleRate: number,
  parts: string[],
): Promise<FirstAudioResult> {
  const context = new AudioContext({ latencyHint: 'interactive' });
  await context.resume();
  const recorder = await tap(context);
  const player = await createPlayer({ format, sampleRate, context, destination: recorder.input });
  // A conversation creates its player at connect time; the agent's first chunk comes later.
  await sleep(400);
  const chunks = parts.map(decodeBase64).filter((chunk) => chunk.length > 0);
  let startedAt = 0;
  const started = new Promise<void>((resolve) => {
    player.on('started', () => {
      startedAt = performance.now();
      resolve();
    });
  });
  const t0 = performance.now();
  const frame0 = Math.round(context.currentTime * context.sampleRate);
  player.enqueue(chunks[0]!);
  let index = 1;
  const feeder = setInterval(() => {
    if (index < chunks.length) player.enqueue(chunks[index++]!);
  }, 20);
  await started;
  const audibleFrame = await Promise.race([recorder.audible, sleep(3000).then(() => Number.NaN)]);
  clearInterval(feeder);
  recorder.close();
  player.close();
  await context.close();
  return {
    toAudibleMs: ((audibleFrame - frame0) / context.sampleRate) * 1000,
    toStartedEventMs: startedAt - t0,
  };
}

/**
 * interrupt() → silence, on the output signal: a tap after the player keeps the context frame of
 * the last sample above −60 dBFS; the figure is that frame minus the context frame when
 * interrupt() was called. It includes the wait for the next rendered block (what a listener
 * hears), and no player counter. Also the wall time until the player's stats confirm it.
 */
async function interruption(): Promise<{ audioMs: number; confirmedWallMs: number }> {
  const context = new AudioContext({ latencyHint: 'interactive' });
  await context.resume();
  const url = URL.createObjectURL(new Blob([RECORDER], { type: 'text/javascript' }));
  await context.audioWorklet.addModule(url);
  const input = context.createGain();
  const lastLoud = new AudioWorkletNode(context, 'bench-last-loud');
  input.connect(lastLoud);
  lastLoud.connect(context.destination);
  const player = await createPlayer({ format: 'raw', sampleRate: 24_000, context, destination: input });
  const samples = new Float32Array(24_000 * 2);
  for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 24_000);
  player.enqueue(new Uint8Array(samples.buffer));
  await new Promise<void>((resolve) => player.on('started', () => resolve()));
  await sleep(300);
  const t0 = performance.now();
  const callFrame = Math.round(context.currentTime * context.sampleRate);
  player.interrupt();
  let confirmedWallMs = Number.NaN;
  for (let i = 0; i < 500; i++) {
    if (player.getStats().lastInterruptionMs != null) {
      confirmedWallMs = performance.now() - t0;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // Long enough for anything still queued to have played, had it not been dropped.
  await sleep(300);
  const last = await new Promise<number>((resolve) => {
    lastLoud.port.onmessage = (event) => resolve(event.data.last as number);
    lastLoud.port.postMessage('stop');
  });
  player.close();
  lastLoud.disconnect();
  await context.close();
  return { audioMs: (Math.max(0, last + 1 - callFrame) / context.sampleRate) * 1000, confirmedWallMs };
}

/**
 * A conversation's main-thread work without the socket, in three steps so that the benchmark
 * can sample the main thread's busy time around the steady part only: `prepare` (context,
 * player, microphone), `feed` (`seconds` of agent audio as the server sends it: JSON text
 * messages with base64, one per 20 ms, at real-time pace, while microphone frames are
 * base64-encoded into `audioIn` JSON) and `finish`.
 */
let session:
  | {
      context: AudioContext;
      player: Awaited<ReturnType<typeof createPlayer>>;
      capture: Awaited<ReturnType<typeof createCapture>>;
      syncMs: number;
    }
  | undefined;

async function prepare(format: AudioFormat, sampleRate: number): Promise<void> {
  const context = new AudioContext({ latencyHint: 'interactive' });
  await context.resume();
  const player = await createPlayer({ format, sampleRate, context });
  const sent: string[] = [];
  const capture = await createCapture({
    context,
    onFrame: (frame) => {
      const t = performance.now();
      sent.push(JSON.stringify({ type: 'audioIn', data: encodeBase64(frame) }));
      if (sent.length > 100) sent.length = 0;
      if (session) session.syncMs += performance.now() - t;
    },
  });
  session = { context, player, capture, syncMs: 0 };
  await sleep(500);
}

async function feed(parts: string[]): Promise<{ seconds: number; syncMs: number }> {
  const current = session!;
  current.syncMs = 0;
  // One message per 20 ms of audio the encoder consumed (empty parts keep the pace).
  const messages = parts.map((data) => (data ? JSON.stringify({ type: 'audioStream', data }) : ''));
  const started = performance.now();
  for (let i = 0; i < messages.length; i++) {
    const text = messages[i]!;
    if (text) {
      const t = performance.now();
      const message = JSON.parse(text) as { type: string; data: string };
      current.player.enqueue(decodeBase64(message.data));
      current.syncMs += performance.now() - t;
    }
    // Real-time pace, without drifting.
    await sleep(Math.max(0, started + (i + 1) * 20 - performance.now()));
  }
  await sleep(200);
  return { seconds: (performance.now() - started) / 1000, syncMs: current.syncMs };
}

async function finish(): Promise<void> {
  const current = session!;
  session = undefined;
  current.capture.stop();
  current.player.close();
  await current.context.close();
}

async function captureLatency(): Promise<{ deliveryMs: number[]; frameMs: number }> {
  const context = new AudioContext({ latencyHint: 'interactive' });
  await context.resume();
  const delivery: number[] = [];
  const capture = await createCapture({
    context,
    frameMs: 20,
    onFrame: (_frame, info) => {
      // How far the render clock has moved since the quantum that completed this frame.
      delivery.push((context.currentTime - info.captureTime) * 1000);
    },
  });
  await sleep(2000);
  capture.stop();
  await context.close();
  return { deliveryMs: delivery.slice(10), frameMs: 20 };
}

(globalThis as Record<string, unknown>).voicewireBench = {
  firstAudio,
  interruption,
  prepare,
  feed,
  finish,
  captureLatency,
};
