/**
 * Run by EchoGuard.test.ts in a fresh Node process (`node --expose-gc --import tsx`): the heap
 * the echo guard allocates while it runs, in an isolate where nothing else runs (the test
 * runner's own work would blur the measure). Prints JSON: the young generation's growth over
 * three spans of 10 s of audio (1000 hops each), after a warm-up of 10 s.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { voiceLike } from '../../../../testing/audio.ts';
import { EchoGuard } from '../../src/audio/worklets/EchoGuard.ts';

const RATE = 48_000;
const FRAME = RATE / 50;
const BLOCK = 128;
const agent = voiceLike({ seconds: 41, sampleRate: RATE, seed: 7, levelDb: -20 });
const mic = new Float32Array(agent.length);
const delay = Math.round(0.15 * RATE);
for (let i = delay; i < mic.length; i++) mic[i] = 0.1 * agent[i - delay]!;
const micBlocks: Float32Array[] = [];
const referenceBlocks: Float32Array[] = [];
for (let k = 0; k + BLOCK <= 40 * RATE; k += BLOCK) {
  micBlocks.push(mic.subarray(k, k + BLOCK));
  referenceBlocks.push(agent.subarray(k, k + BLOCK));
}
const perTenSeconds = Math.floor(micBlocks.length / 4);
const guard = new EchoGuard(RATE);
function run(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    guard.process(micBlocks[i]!, referenceBlocks[i]!);
    if ((i * BLOCK) % FRAME < BLOCK) guard.judgeFrame();
  }
}
const youngUsed = () =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_used_size;
const gc = (globalThis as unknown as { gc: () => void }).gc;
run(0, perTenSeconds);
const grown: number[] = [];
for (let span = 1; span < 4; span++) {
  gc();
  const before = youngUsed();
  run(span * perTenSeconds, (span + 1) * perTenSeconds);
  grown.push(youngUsed() - before);
}
process.stdout.write(JSON.stringify({ grown }));
