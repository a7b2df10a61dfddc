import { floatToPcm16 } from '@voicewire/core';
import { concatBytes } from '../concatBytes.ts';
import type { OutputEncoder } from '../types.ts';

/**
 * A small streaming FLAC encoder (16-bit mono), written here because no maintained npm encoder
 * streams without a seek-back or a padding block. Each frame uses whichever of the constant,
 * fixed-predictor (orders 0–4) and verbatim subframes is smallest, with Rice-coded residuals in
 * up to 2^8 partitions. Frames go out as soon as a block is full; `finish()` sends the short last
 * block. The STREAMINFO block leaves total samples, frame sizes and MD5 at zero ("unknown"), as
 * the format allows for streams, and no padding block follows it (there is nothing to patch).
 */

/**
 * Samples per frame: the largest of the sizes with a one-nibble code that keeps a frame at or
 * under ~50 ms, so a streaming decoder never waits long for its first block.
 */
export function flacBlockSize(sampleRate: number): number {
  const candidates = [256, 512, 576, 1024, 1152, 2048, 2304, 4096, 4608];
  let best = 256;
  for (const size of candidates) if (size <= sampleRate * 0.05) best = size;
  return best;
}

const BITS_PER_SAMPLE = 16;

export function createFlacEncoder(sampleRate: number): OutputEncoder {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 655_350) {
    throw new RangeError(`flac encoder: unsupported sample rate ${sampleRate}`);
  }
  const blockSize = flacBlockSize(sampleRate);
  const block = new Int16Array(blockSize);
  let filled = 0;
  let frameNumber = 0;
  let headerSent = false;
  let finished = false;

  const emit = (samples: Int16Array, out: Uint8Array[]) => {
    out.push(encodeFlacFrame(samples, frameNumber++, sampleRate, blockSize));
  };

  return {
    format: 'flac',
    sampleRate,
    streamSampleRate: sampleRate,
    encode(samples) {
      if (finished) throw new Error('flac encoder: encode() after finish()');
      const out: Uint8Array[] = [];
      if (!headerSent) {
        out.push(flacStreamHeader(sampleRate, blockSize));
        headerSent = true;
      }
      const pcm = floatToPcm16(samples);
      let offset = 0;
      while (offset < pcm.length) {
        const take = Math.min(blockSize - filled, pcm.length - offset);
        block.set(pcm.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === blockSize) {
          emit(block, out);
          filled = 0;
        }
      }
      return concatBytes(out);
    },
    finish() {
      if (finished) throw new Error('flac encoder: finish() called twice');
      finished = true;
      const out: Uint8Array[] = [];
      if (!headerSent) out.push(flacStreamHeader(sampleRate, blockSize));
      if (filled > 0) emit(block.subarray(0, filled), out);
      return concatBytes(out);
    },
  };
}

/** "fLaC" and a STREAMINFO block flagged as the last metadata block. */
function flacStreamHeader(sampleRate: number, blockSize: number): Uint8Array {
  const w = new BitWriter(42);
  w.write(0x664c6143, 32); // "fLaC"
  w.write(1, 1); // last metadata block: no padding, no seek table follows
  w.write(0, 7); // STREAMINFO
  w.write(34, 24); // its length
  w.write(blockSize, 16); // minimum block size (the short last block does not count)
  w.write(blockSize, 16); // maximum block size
  w.write(0, 24); // minimum frame size: unknown
  w.write(0, 24); // maximum frame size: unknown
  w.write(sampleRate, 20);
  w.write(0, 3); // channels - 1
  w.write(BITS_PER_SAMPLE - 1, 5);
  w.write(0, 4); // total samples, 36 bits: 0 = unknown (a live stream)
  w.write(0, 32);
  for (let i = 0; i < 4; i++) w.write(0, 32); // MD5 of the audio: zero = not computed
  return w.finish();
}

function blockSizeCode(size: number): { code: number; extraBits: number } {
  if (size === 192) return { code: 1, extraBits: 0 };
  for (let n = 2; n <= 5; n++) if (size === 576 << (n - 2)) return { code: n, extraBits: 0 };
  for (let n = 8; n <= 15; n++) if (size === 256 << (n - 8)) return { code: n, extraBits: 0 };
  return size <= 256 ? { code: 6, extraBits: 8 } : { code: 7, extraBits: 16 };
}

const SAMPLE_RATE_CODES: Record<number, number> = {
  88200: 1,
  176400: 2,
  192000: 3,
  8000: 4,
  16000: 5,
  22050: 6,
  24000: 7,
  32000: 8,
  44100: 9,
  48000: 10,
  96000: 11,
};

/**
 * The frame header's sample-rate field. Every frame states its rate even where the code would
 * allow "see STREAMINFO", so a decoder can make sense of any frame on its own.
 */
function sampleRateCode(rate: number): { code: number; value: number; bits: number } {
  const code = SAMPLE_RATE_CODES[rate];
  if (code !== undefined) return { code, value: 0, bits: 0 };
  if (rate % 1000 === 0 && rate / 1000 < 256) return { code: 12, value: rate / 1000, bits: 8 };
  if (rate < 65536) return { code: 13, value: rate, bits: 16 };
  if (rate % 10 === 0 && rate / 10 < 65536) return { code: 14, value: rate / 10, bits: 16 };
  return { code: 0, value: 0, bits: 0 };
}

/** One frame holding `samples` (16-bit mono), numbered for a fixed-block-size stream. */
function encodeFlacFrame(
  samples: Int16Array,
  frameNumber: number,
  sampleRate: number,
  blockSize: number,
): Uint8Array {
  const n = samples.length;
  const w = new BitWriter(n * 2 + 64);
  // The stream's block size has a one-nibble code; the short last block spells its size out.
  const size = n === blockSize ? blockSizeCode(n) : { code: n <= 256 ? 6 : 7, extraBits: n <= 256 ? 8 : 16 };
  const rate = sampleRateCode(sampleRate);
  w.write(0b11111111111110, 14); // sync
  w.write(0, 1); // reserved
  w.write(0, 1); // fixed block size: the header carries the frame number
  w.write(size.code, 4);
  w.write(rate.code, 4);
  w.write(0, 4); // channel assignment: mono
  w.write(0b100, 3); // 16 bits per sample
  w.write(0, 1); // reserved
  writeUtf8Number(w, frameNumber);
  if (size.extraBits) w.write(n - 1, size.extraBits);
  if (rate.bits) w.write(rate.value, rate.bits);
  w.write(crc8(w.bytesSoFar()), 8);
  writeSubframe(w, samples);
  w.alignToByte();
  w.write(crc16(w.bytesSoFar()), 16);
  return w.finish();
}

/** The frame number in FLAC's extended UTF-8 coding (up to 36 bits). */
function writeUtf8Number(w: BitWriter, value: number): void {
  if (value < 0x80) {
    w.write(value, 8);
    return;
  }
  let continuation = 1;
  while (value >= 2 ** (6 * continuation + (6 - continuation))) continuation++;
  const leadBits = 6 - continuation; // payload bits in the first byte
  const lead = (0xff00 >> (continuation + 1)) & 0xff; // continuation + 1 leading ones
  w.write(lead | (Math.floor(value / 2 ** (6 * continuation)) & ((1 << leadBits) - 1)), 8);
  for (let i = continuation - 1; i >= 0; i--) w.write(0x80 | (Math.floor(value / 2 ** (6 * i)) & 0x3f), 8);
}

/** Residuals of the fixed polynomial predictors of orders 0–4 (FLAC format §FIXED). */
function fixedResidual(samples: Int16Array, order: number, out: Int32Array): void {
  const n = samples.length;
  // One loop per order: a switch inside the loop costs more than the arithmetic.
  if (order === 0) for (let i = 0; i < n; i++) out[i] = samples[i]!;
  else if (order === 1) for (let i = 1; i < n; i++) out[i - 1] = samples[i]! - samples[i - 1]!;
  else if (order === 2) {
    for (let i = 2; i < n; i++) out[i - 2] = samples[i]! - 2 * samples[i - 1]! + samples[i - 2]!;
  } else if (order === 3) {
    for (let i = 3; i < n; i++) {
      out[i - 3] = samples[i]! - 3 * samples[i - 1]! + 3 * samples[i - 2]! - samples[i - 3]!;
    }
  } else {
    for (let i = 4; i < n; i++) {
      out[i - 4] =
        samples[i]! - 4 * samples[i - 1]! + 6 * samples[i - 2]! - 4 * samples[i - 3]! + samples[i - 4]!;
    }
  }
}

/** Zigzag-folded residual, as Rice coding stores it. */
const fold = (r: number) => (r >= 0 ? 2 * r : -2 * r - 1);

/**
 * Largest partition order tried: 2^6 partitions (libFLAC's default tops out at 6 too; finer
 * partitions of ≤ 4608-sample blocks gain a few bytes and cost most of the search).
 */
const MAX_PARTITION_ORDER = 6;

/** 2^-k for k = 0..30, so the estimate multiplies instead of dividing. */
const INVERSE_POWERS = /* @__PURE__ */ Float64Array.from({ length: 31 }, (_, k) => 2 ** -k);

/**
 * Estimated bits to Rice-code a partition of `count` folded residuals summing to `sum` with
 * parameter k: each value costs k + 1 bits plus its quotient, and the quotients add up to about
 * sum / 2^k (libFLAC's estimate). Exact enough to choose parameters; the writing is exact.
 */
function riceEstimate(sum: number, count: number, k: number): number {
  return count * (k + 1) + Math.floor(sum * INVERSE_POWERS[k]!);
}

/** The parameter with the smallest estimate, searched around log2 of the mean. */
function bestRiceParameter(sum: number, count: number): { k: number; bits: number } {
  const mean = sum / Math.max(1, count);
  const guess = mean < 1 ? 0 : Math.floor(Math.log2(mean));
  let best = { k: 0, bits: Number.POSITIVE_INFINITY };
  for (let k = Math.max(0, guess - 1); k <= Math.min(30, guess + 1); k++) {
    const bits = riceEstimate(sum, count, k);
    if (bits < best.bits) best = { k, bits };
  }
  return best;
}

interface ResidualPlan {
  partitionOrder: number;
  parameters: number[];
  /** 0: 4-bit parameters (up to 14); 1: 5-bit parameters (up to 30). */
  method: number;
  bits: number;
}

/**
 * Chooses the partition order and per-partition Rice parameters. Sums are taken once at the
 * finest order and merged pairwise for the coarser ones, so the whole search costs one pass.
 */
function planResidual(folded: Uint32Array, blockSize: number, predictorOrder: number): ResidualPlan {
  let finest = 0;
  while (
    finest < MAX_PARTITION_ORDER &&
    blockSize % (1 << (finest + 1)) === 0 &&
    blockSize >> (finest + 1) > predictorOrder
  ) {
    finest++;
  }
  const partitionSize = blockSize >> finest;
  let sums = new Float64Array(1 << finest);
  let counts = new Float64Array(1 << finest);
  let from = 0;
  for (let p = 0; p < sums.length; p++) {
    const to = (p + 1) * partitionSize - predictorOrder;
    let sum = 0;
    for (let i = from; i < to; i++) sum += folded[i]!;
    sums[p] = sum;
    counts[p] = to - from;
    from = to;
  }
  let best: ResidualPlan | undefined;
  for (let order = finest; order >= 0; order--) {
    const parameters: number[] = [];
    let bits = 0;
    for (let p = 0; p < sums.length; p++) {
      const choice = bestRiceParameter(sums[p]!, counts[p]!);
      parameters.push(choice.k);
      bits += choice.bits;
    }
    const method = parameters.some((k) => k > 14) ? 1 : 0;
    bits += 2 + 4 + sums.length * (method ? 5 : 4);
    if (!best || bits < best.bits) best = { partitionOrder: order, parameters, method, bits };
    if (order > 0) {
      const merged = new Float64Array(sums.length / 2);
      const mergedCounts = new Float64Array(sums.length / 2);
      for (let p = 0; p < merged.length; p++) {
        merged[p] = sums[2 * p]! + sums[2 * p + 1]!;
        mergedCounts[p] = counts[2 * p]! + counts[2 * p + 1]!;
      }
      sums = merged;
      counts = mergedCounts;
    }
  }
  return best!;
}

function writeSubframe(w: BitWriter, samples: Int16Array): void {
  const n = samples.length;
  let constant = true;
  for (let i = 1; i < n && constant; i++) if (samples[i] !== samples[0]) constant = false;
  if (constant) {
    w.write(0, 1);
    w.write(0b000000, 6); // CONSTANT: silence costs two bytes per frame
    w.write(0, 1);
    w.write(samples[0]! & 0xffff, 16);
    return;
  }
  const residual = new Int32Array(n);
  let best: { order: number; plan: ResidualPlan; folded: Uint32Array } | undefined;
  for (let order = 0; order <= Math.min(4, n - 1); order++) {
    fixedResidual(samples, order, residual);
    const folded = new Uint32Array(n - order);
    for (let i = 0; i < folded.length; i++) folded[i] = fold(residual[i]!);
    const plan = planResidual(folded, n, order);
    const bits = plan.bits + order * BITS_PER_SAMPLE;
    if (!best || bits < best.plan.bits + best.order * BITS_PER_SAMPLE) best = { order, plan, folded };
  }
  if (!best || best.plan.bits + best.order * BITS_PER_SAMPLE >= n * BITS_PER_SAMPLE) {
    w.write(0, 1);
    w.write(0b000001, 6); // VERBATIM: noise that no predictor helps with
    w.write(0, 1);
    for (let i = 0; i < n; i++) w.write(samples[i]! & 0xffff, 16);
    return;
  }
  const { order, plan } = best;
  w.write(0, 1);
  w.write(0b001000 | order, 6); // FIXED, order 0–4
  w.write(0, 1); // no wasted bits
  for (let i = 0; i < order; i++) w.write(samples[i]! & 0xffff, 16); // warm-up samples
  w.write(plan.method, 2);
  w.write(plan.partitionOrder, 4);
  const partitions = 1 << plan.partitionOrder;
  const partitionSize = n / partitions;
  const parameterBits = plan.method ? 5 : 4;
  let from = 0;
  for (let p = 0; p < partitions; p++) {
    const to = (p + 1) * partitionSize - order;
    const k = plan.parameters[p]!;
    w.write(k, parameterBits);
    for (let i = from; i < to; i++) w.writeRice(best.folded[i]!, k);
    from = to;
  }
}

/** CRC-8 of frame headers: polynomial x^8 + x^2 + x + 1, initial value 0. */
const CRC8_TABLE = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let bit = 0; bit < 8; bit++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    table[i] = c;
  }
  return table;
})();

function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = CRC8_TABLE[crc ^ byte]!;
  return crc;
}

/** CRC-16 of whole frames: polynomial x^16 + x^15 + x^2 + 1, initial value 0. */
const CRC16_TABLE = /* @__PURE__ */ (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let bit = 0; bit < 8; bit++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC16_TABLE[(crc >> 8) ^ byte]!) & 0xffff;
  return crc;
}

/** Most-significant-bit-first bit writer over a growing byte buffer. */
class BitWriter {
  #bytes: Uint8Array;
  #length = 0;
  #accumulator = 0;
  #bitCount = 0;

  constructor(initialBytes: number) {
    this.#bytes = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Write the low `count` bits of `value` (count ≤ 32). */
  write(value: number, count: number): void {
    if (count > 24) {
      this.write(Math.floor(value / 2 ** 16) & ((1 << (count - 16)) - 1), count - 16);
      this.write(value & 0xffff, 16);
      return;
    }
    this.#accumulator = ((this.#accumulator << count) | (value & ((1 << count) - 1))) >>> 0;
    this.#bitCount += count;
    while (this.#bitCount >= 8) {
      this.#bitCount -= 8;
      this.#push((this.#accumulator >>> this.#bitCount) & 0xff);
    }
    this.#accumulator &= (1 << this.#bitCount) - 1;
  }

  /** Rice code: the quotient in unary (zeros ended by a one), then the low k bits. */
  writeRice(value: number, k: number): void {
    let quotient = value >>> k;
    if (quotient + 1 + k <= 24) {
      // The common case in one call: the unary run, its stop bit and the low bits together.
      this.write((1 << k) | (value & ((1 << k) - 1)), quotient + 1 + k);
      return;
    }
    while (quotient >= 16) {
      this.write(0, 16);
      quotient -= 16;
    }
    this.write(1, quotient + 1);
    if (k > 24) {
      this.write(0, k - 24); // values stay below 2^24, so the top bits are zero
      this.write(value, 24);
    } else if (k > 0) this.write(value & ((1 << k) - 1), k);
  }

  alignToByte(): void {
    if (this.#bitCount > 0) this.write(0, 8 - this.#bitCount);
  }

  /** The whole bytes written so far (for the CRCs). */
  bytesSoFar(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  finish(): Uint8Array {
    this.alignToByte();
    return this.#bytes.slice(0, this.#length);
  }

  #push(byte: number): void {
    if (this.#length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = byte;
  }
}
