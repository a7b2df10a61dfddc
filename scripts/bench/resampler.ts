/**
 * Resampler quality and cost: voicewire's polyphase Kaiser resampler beside what peers ship for
 * the microphone path, all measured here in the same run with the same method:
 * - PlayAI's SDK: a 3-sample average (a box filter one output period wide; at 44.1 kHz the box
 *   spans the 2.76 input samples of each output period);
 * - Pipecat's web client: linear interpolation between neighbouring input samples.
 * Also base64 throughput on a 100 KB payload (every audio frame crosses it twice).
 */
import { Buffer } from 'node:buffer';
import { createResampler, decodeBase64, encodeBase64 } from '../../packages/core/src/index.ts';
import { toDb, tone, toneAmplitude } from '../../testing/audio.ts';
import type { BenchCheck, BenchSection } from './types.ts';

/** A streaming resampler reduced to what the measurement needs. */
interface Method {
  name: string;
  create(from: number, to: number): { process(input: Float32Array): Float32Array; latency: number };
}

const AMPLITUDE = 0.5;
const TONE_SECONDS = 0.25;
/** Frames as the capture worklet sees them: 20 ms. */
const FRAME_MS = 20;
const SPEED_RUNS = 5;
const SPEED_RUN_MS = 300;

const voicewire: Method = {
  name: 'voicewire (polyphase Kaiser)',
  create(from, to) {
    const resampler = createResampler(from, to);
    const output = new Float32Array(resampler.maxOutputLength((from * FRAME_MS) / 1000 + 1));
    return {
      latency: resampler.latencySamples,
      // The allocation-free path, as the worklet uses it; the copy is only for measurement calls.
      process: (input) =>
        input.length <= (from * FRAME_MS) / 1000
          ? output.subarray(0, resampler.processInto(input, output))
          : resampler.process(input),
    };
  },
};

/** PlayAI-style: average the input samples that fall in each output period. */
const boxAverage: Method = {
  name: '3-sample average (PlayAI)',
  create(from, to) {
    const ratio = from / to;
    let position = 0; // input samples consumed since the stream began
    let emitted = 0;
    let sum = 0;
    let count = 0;
    return {
      latency: (ratio - 1) / 2 / ratio,
      process(input) {
        const output = new Float32Array(Math.ceil(input.length / ratio) + 1);
        let written = 0;
        for (let i = 0; i < input.length; i++) {
          sum += input[i]!;
          count++;
          position++;
          if (position >= Math.floor((emitted + 1) * ratio)) {
            output[written++] = sum / count;
            emitted++;
            sum = 0;
            count = 0;
          }
        }
        return output.subarray(0, written);
      },
    };
  },
};

/** Pipecat-style: linear interpolation at each output instant. */
const linear: Method = {
  name: 'linear interpolation (Pipecat)',
  create(from, to) {
    const ratio = from / to;
    let previous = 0; // the last sample of the previous call
    let t = 0; // next output position, in input samples relative to this call's first sample - 1
    return {
      latency: 0,
      process(input) {
        const output = new Float32Array(Math.ceil(input.length / ratio) + 1);
        let written = 0;
        // Position p in [0, input.length]: p = 0 is `previous`, p = k is input[k - 1].
        while (t + 1 <= input.length) {
          const p = t + 1;
          const k = Math.floor(p);
          const a = k === 0 ? previous : input[k - 1]!;
          const b = k < input.length ? input[k]! : a;
          output[written++] = a + (b - a) * (p - k);
          t += ratio;
        }
        t -= input.length;
        if (input.length > 0) previous = input[input.length - 1]!;
        return output.subarray(0, written);
      },
    };
  },
};

function aliasOf(frequencyHz: number, rate: number): number {
  const folded = frequencyHz % rate;
  return folded > rate / 2 ? rate - folded : folded;
}

function sweep(fromHz: number, toHz: number, steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => fromHz + ((toHz - fromHz) * i) / steps);
}

function resampleTone(method: Method, from: number, to: number, frequencyHz: number): Float32Array {
  const instance = method.create(from, to);
  const output = instance.process(tone(frequencyHz, TONE_SECONDS, from, AMPLITUDE)).slice();
  return output.subarray(Math.ceil(2 * instance.latency) + 2);
}

/** Worst (smallest) rejection, dB, of aliases from tones above 0.55·fs_out (downsampling) or of images (upsampling). */
function worstRejection(method: Method, from: number, to: number): number {
  let worst = Number.POSITIVE_INFINITY;
  if (from > to) {
    // e.g. 48 → 44.1 kHz: every tone that aliases lies in the transition band, where no target applies.
    if (0.55 * to >= from / 2) return Number.POSITIVE_INFINITY;
    for (const f of sweep(0.55 * to, from / 2 - 10, 150)) {
      const output = resampleTone(method, from, to, f);
      worst = Math.min(worst, -toDb(toneAmplitude(output, aliasOf(f, to), to) / AMPLITUDE));
    }
  } else {
    for (const f of sweep(40, 0.45 * from, 60)) {
      const output = resampleTone(method, from, to, f);
      for (let k = 1; k * from - f < to / 2; k++) {
        for (const image of [k * from - f, k * from + f]) {
          if (image < to / 2) worst = Math.min(worst, -toDb(toneAmplitude(output, image, to) / AMPLITUDE));
        }
      }
    }
  }
  return worst;
}

/** Largest deviation from unity gain, dB, for tones below 0.45 × the lower rate. */
function passbandRipple(method: Method, from: number, to: number): number {
  let worst = 0;
  for (const f of sweep(40, 0.45 * Math.min(from, to), 60)) {
    const output = resampleTone(method, from, to, f);
    worst = Math.max(worst, Math.abs(toDb(toneAmplitude(output, f, to) / AMPLITUDE)));
  }
  return worst;
}

/**
 * Seconds of audio processed per second of this process's CPU time, in 20 ms frames; best of
 * several runs. CPU time rather than wall time because the machine is shared: another process
 * taking the core slows the wall clock but not the work this resampler costs. (Node's GC helper
 * threads count towards CPU time too, which only makes the figure more conservative.)
 */
function speed(method: Method, from: number, to: number): { cpu: number; wall: number } {
  const instance = method.create(from, to);
  const signal = tone(997, 1, from, AMPLITUDE);
  const frame = Math.round((from * FRAME_MS) / 1000);
  const frames = Array.from({ length: Math.floor(signal.length / frame) }, (_, i) =>
    signal.subarray(i * frame, (i + 1) * frame),
  );
  const audioSeconds = (frames.length * frame) / from;
  const oneSecond = () => {
    for (const f of frames) instance.process(f);
  };
  for (let i = 0; i < 3; i++) oneSecond(); // warm up the JIT
  let cpu = 0;
  let wall = 0;
  for (let run = 0; run < SPEED_RUNS; run++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let seconds = 0;
    while (performance.now() - started < SPEED_RUN_MS) {
      oneSecond();
      seconds += audioSeconds;
    }
    const used = process.cpuUsage(cpuStarted);
    cpu = Math.max(cpu, seconds / ((used.user + used.system) / 1e6));
    wall = Math.max(wall, seconds / ((performance.now() - started) / 1000));
  }
  return { cpu, wall };
}

function verdict(value: number, target: number, higherIsBetter: boolean): string {
  return (higherIsBetter ? value >= target : value <= target) ? 'yes' : 'no';
}

function comparisonSection(from: number, to: number): BenchSection {
  const methods = [voicewire, boxAverage, linear];
  const rejection = methods.map((m) => worstRejection(m, from, to));
  const ripple = methods.map((m) => passbandRipple(m, from, to));
  const speeds = methods.map((m) => speed(m, from, to));
  const ours = createResampler(from, to);
  return {
    checks: targets(from, to, rejection[0]!, ripple[0]!, speeds[0]!.cpu),
    title: `Resampler, ${from / 1000} kHz → ${to / 1000} kHz (microphone path)`,
    headers: ['metric', ...methods.map((m) => m.name), 'target', 'voicewire meets it'],
    rows: [
      [
        'worst alias rejection above 0.55·fs_out (dB)',
        ...rejection.map((v) => round(v, 1)),
        '≥ 70',
        verdict(rejection[0]!, 70, true),
      ],
      [
        'passband ripple below 0.45·fs_out (± dB)',
        ...ripple.map((v) => round(v, 3)),
        '≤ 0.1',
        verdict(ripple[0]!, 0.1, false),
      ],
      [
        'speed (× real time, one core, CPU time)',
        ...speeds.map((v) => Math.round(v.cpu)),
        '≥ 200',
        verdict(speeds[0]!.cpu, 200, true),
      ],
      ['speed (× real time, wall clock, shared machine)', ...speeds.map((v) => Math.round(v.wall)), '', ''],
    ],
    notes: [
      `Tones at ${AMPLITUDE} amplitude, ${TONE_SECONDS * 1000} ms each; rejection = level of the alias in the output relative to the input tone, over 151 tones from 0.55·fs_out to the input Nyquist; ripple = worst |gain| over 61 tones up to 0.45·fs_out (Hann-windowed single-bin DFT, filter fill-up skipped).`,
      `Speed: 1 s of audio in ${FRAME_MS} ms frames, best of ${SPEED_RUNS} × ${SPEED_RUN_MS} ms runs, per second of this process's CPU time (the wall-clock row depends on what else the machine runs). voicewire uses processInto (no allocation); its delay is ${round(ours.latencySamples, 1)} output samples (${round((ours.latencySamples / to) * 1000, 2)} ms).`,
    ],
  };
}

/**
 * DESIGN.md's resampler targets. The quality figures are exact (no clock in them); the speed is
 * per second of this process's CPU time, best of several runs, so time taken by other processes
 * on a shared machine does not count against it.
 */
function targets(
  from: number,
  to: number,
  rejection: number,
  ripple: number,
  cpuSpeed: number,
): BenchCheck[] {
  const pair = `${from / 1000} → ${to / 1000} kHz`;
  return [
    // No alias or image can land outside the transition band: nothing to reject.
    ...(Number.isFinite(rejection)
      ? [{ name: `${pair}: worst alias/image rejection (dB)`, measured: round(rejection, 1), atLeast: 70 }]
      : []),
    { name: `${pair}: passband ripple (± dB)`, measured: round(ripple, 3), atMost: 0.1 },
    { name: `${pair}: speed (× real time, CPU time)`, measured: Math.round(cpuSpeed), atLeast: 200 },
  ];
}

function otherPairsSection(): BenchSection {
  const pairs: [number, number][] = [
    [16_000, 48_000],
    [24_000, 48_000],
    [22_050, 44_100],
    [44_100, 48_000],
    [48_000, 44_100],
    [16_000, 44_100],
  ];
  const measured = pairs.map(([from, to]) => ({
    from,
    to,
    rejection: worstRejection(voicewire, from, to),
    ripple: passbandRipple(voicewire, from, to),
    speed: speed(voicewire, from, to).cpu,
  }));
  return {
    checks: measured.flatMap((m) => targets(m.from, m.to, m.rejection, m.ripple, m.speed)),
    title: 'voicewire resampler, playback and other pairs',
    headers: [
      'conversion',
      'rejection of aliases / images (dB)',
      'passband ripple (± dB)',
      'speed (× real time, CPU time)',
      'delay (ms)',
    ],
    rows: measured.map(({ from, to, rejection, ripple, speed }) => [
      `${from / 1000} kHz → ${to / 1000} kHz`,
      orNone(round(rejection, 1)),
      round(ripple, 3),
      Math.round(speed),
      round((createResampler(from, to).latencySamples / to) * 1000, 2),
    ]),
    notes: [
      'Upsampling: images of tones below 0.45·fs_in, measured in the output band. Targets as above.',
      '"none": no alias or image can land outside the transition band (0.45-0.55 of the lower rate), so there is nothing to reject.',
    ],
  };
}

function base64Section(): BenchSection {
  const bytes = new Uint8Array(100 * 1024);
  let seed = 1;
  for (let i = 0; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
  const text = encodeBase64(bytes);
  const throughput = (work: () => void): number => {
    for (let i = 0; i < 20; i++) work();
    let best = 0;
    for (let run = 0; run < SPEED_RUNS; run++) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      let n = 0;
      while (performance.now() - started < 200) {
        work();
        n++;
      }
      const used = process.cpuUsage(cpuStarted);
      best = Math.max(best, (n * bytes.length) / 1e6 / ((used.user + used.system) / 1e6));
    }
    return best;
  };
  const rows: [string, () => void][] = [
    ['encodeBase64', () => encodeBase64(bytes)],
    ['decodeBase64', () => decodeBase64(text)],
    [
      'Node Buffer encode (reference, not usable in browsers)',
      () => Buffer.from(bytes.buffer).toString('base64'),
    ],
    ['Node Buffer decode (reference)', () => Buffer.from(text, 'base64')],
  ];
  return {
    title: 'base64, 100 KB payload',
    headers: ['operation', 'MB/s (of binary data)', 'ms per 100 KB'],
    rows: rows.map(([name, work]) => {
      const mbPerSecond = throughput(work);
      return [name, Math.round(mbPerSecond), round((bytes.length / 1e6 / mbPerSecond) * 1000, 3)];
    }),
    notes: [`Best of ${SPEED_RUNS} × 200 ms runs, per second of CPU time.`],
  };
}

function orNone(value: number): number | string {
  return Number.isFinite(value) ? value : 'none';
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export async function run(): Promise<BenchSection[]> {
  return [
    comparisonSection(48_000, 16_000),
    comparisonSection(44_100, 16_000),
    otherPairsSection(),
    base64Section(),
  ];
}
