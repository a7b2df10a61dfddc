import { createFft, type Fft } from '../../dsp/createFft.ts';
import { ECHO_GUARD_TUNING, ECHO_HOP_MS, type EchoGuardTuning } from './echoGuardTuning.ts';

export { ECHO_GUARD_TUNING, ECHO_HOP_MS, type EchoGuardTuning };

const BAND_LOW_HZ = 150;
const BAND_HIGH_HZ = 7500;
/** Levels are clamped here so that digital silence does not dominate averages. */
const LEVEL_FLOOR_DB = -100;
/** Microphone hops quieter than this (dBFS) do not feed the delay tracker. */
const TRACK_FLOOR_DB = -80;
/** The learned coupling never falls below this… */
const COUPLING_FLOOR_DB = -80;
/** …and nothing learned exceeds this (a hop misjudged must not deafen the guard for minutes). */
const LEARNED_MAX_DB = 30;
/**
 * "Never" for a hop index: a small integer (not -Infinity), so hop arithmetic stays in V8's small
 * integers and the audio thread allocates no boxed numbers.
 */
const LONG_AGO_HOP = -(2 ** 29);
/** The delay tracker's estimate is used after 2 s of evidence, once it has held for 1 s. */
const SETTLE_EVIDENCE_HOPS = 2000 / ECHO_HOP_MS;
const SETTLE_STABLE_HOPS = 1000 / ECHO_HOP_MS;

function toDb(meanSquare: number): number {
  return meanSquare > 1e-10 ? 10 * Math.log10(meanSquare) : LEVEL_FLOOR_DB;
}

/**
 * What a hop of the microphone is while the agent is audible: `echo` (held back), `user` (bands
 * of its own), `probation` (an unexplained rise, let through while it may be the user),
 * `hangover` (the user talks on), `clear` (the agent was silent where its echo would come from).
 */
type HopVerdict = 'echo' | 'user' | 'probation' | 'hangover' | 'clear';

/**
 * The echo guard's DSP: it hears the microphone and the reference (what the player sends to the
 * speakers, in the same AudioContext) and judges, frame by frame, whether the microphone holds
 * anything but the echo of the reference. Every 10 ms it takes both levels and both spectra
 * (in bands); the reference's are kept for {@link EchoGuardTuning.maxDelayMs}.
 *
 * - **Delay.** The echo path delay (output latency + room + input latency, tens to hundreds of
 *   ms) is tracked from the covariance of the two level envelopes; until it is known, the whole
 *   range counts.
 * - **Coupling.** How loud the echo comes back over the reference (after the browser's echo
 *   canceller) is learned while the agent talks: a hop within a margin of it is the echo.
 * - **The user.** Someone talking over the agent says other sounds, at other pitches: some of
 *   their bands stand above anything the echo could be, even a canceller's leak. Two such hops
 *   and their voice passes continuously (with a hangover); a single one passes its own frame.
 * - **Leaks.** Browsers' echo cancellers leak now and then (measured in the README's "Echo
 *   guard" section): the raw echo for a few hundred ms, often lifted 10–20 dB by auto gain. So
 *   the guard never trusts the canceller below the raw echo: the leak ceiling starts high, is
 *   forgotten slowly (0.5 dB/s) down to the raw echo, and every leak seen raises it again. A rise
 *   nothing explains passes for a few hops (shorter than a voice detector needs to start); without
 *   a band of its own by then it is a leak, and its level is learned.
 *
 * The verdict needs no look-ahead: the reference of the recent past is already there when its
 * echo arrives, so a frame the guard passes is not delayed. Allocation-free after construction.
 */
export class EchoGuard {
  readonly tuning: EchoGuardTuning;
  readonly #hopLength: number;
  readonly #historyHops: number;
  readonly #fft: Fft;
  readonly #window: Float32Array;
  readonly #bandStart: Int32Array;
  readonly #bandEnd: Int32Array;
  readonly #bandScale: number;
  readonly #bands: number;
  readonly #micRing: Float32Array;
  readonly #refRing: Float32Array;
  #ringPos = 0;
  #hopFill = 0;
  #hopMicSquares = 0;
  #hopRefSquares = 0;
  readonly #re: Float32Array;
  readonly #im: Float32Array;
  readonly #micBands: Float32Array;
  /** Reference band levels (dB) per hop, a ring of `historyHops` hops. */
  readonly #refBands: Float32Array;
  readonly #refLevels: Float32Array;
  readonly #bound: Float32Array;
  #hop = 0;
  readonly #couplingDecayPerHop: number;
  readonly #leakDecayPerHop: number;
  readonly #hangoverHops: number;
  /**
   * Per-hop values handed between the methods in fields rather than as arguments or results: a
   * number crossing a call the engine did not inline is boxed (an allocation on the audio thread).
   */
  #micLevel = LEVEL_FLOOR_DB;
  #broadBound = LEVEL_FLOOR_DB;
  #excess = 0;
  #lastReferenceHop = LONG_AGO_HOP;
  // Delay tracker: normalized covariance of the level envelopes at each lag (hops).
  readonly #meanRef: Float32Array;
  readonly #varRef: Float32Array;
  readonly #cov: Float32Array;
  #meanMic = LEVEL_FLOOR_DB;
  #varMic = 0;
  #trackedHops = 0;
  readonly #alpha: number;
  #delayHops = -1;
  /** The tracker's best lag, and for how many hops it has stayed within the spread. */
  #candidateHops = -1;
  #candidateStableHops = 0;
  // Learned levels, dB over the reference's bound.
  #coupling = COUPLING_FLOOR_DB;
  #leak: number;
  // Verdict state.
  #probationLeft: number;
  #echoRun = 0;
  /** Bit i: hop i hops ago was the user's. */
  #userBits = 0;
  #lastUserHop = LONG_AGO_HOP;
  #talking = false;
  /** Hops since the last verdict that let the frame pass, and whether the agent was audible. */
  #passSinceJudged = false;
  #audibleSinceJudged = false;
  /** Counts, for stats and tests. */
  hopsUser = 0;
  hopsProbation = 0;
  hopsEcho = 0;

  constructor(sampleRate: number, tuning: Partial<EchoGuardTuning> = {}) {
    this.tuning = { ...ECHO_GUARD_TUNING, ...tuning };
    const t = this.tuning;
    this.#hopLength = Math.max(16, Math.round((sampleRate * ECHO_HOP_MS) / 1000));
    let size = 16;
    while (size < this.#hopLength) size <<= 1;
    this.#fft = createFft(size);
    this.#window = new Float32Array(size);
    let windowPower = 0;
    for (let i = 0; i < size; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
      this.#window[i] = w;
      windowPower += w * w;
    }
    // A band's level is its share of the signal's mean square (one-sided spectrum, Parseval).
    this.#bandScale = 2 / (size * windowPower);
    this.#micRing = new Float32Array(size);
    this.#refRing = new Float32Array(size);
    this.#re = new Float32Array(size);
    this.#im = new Float32Array(size);
    // Log-spaced bands, each at least one bin wide.
    const high = Math.min(BAND_HIGH_HZ, 0.45 * sampleRate);
    const binHz = sampleRate / size;
    this.#bandStart = new Int32Array(t.bands);
    this.#bandEnd = new Int32Array(t.bands);
    let bands = 0;
    let previousEnd = Math.max(1, Math.round(BAND_LOW_HZ / binHz));
    for (let b = 0; b < t.bands; b++) {
      const edge = BAND_LOW_HZ * (high / BAND_LOW_HZ) ** ((b + 1) / t.bands);
      const end = Math.min(size / 2, Math.max(previousEnd + 1, Math.round(edge / binHz)));
      if (end <= previousEnd) break;
      this.#bandStart[bands] = previousEnd;
      this.#bandEnd[bands] = end;
      bands++;
      previousEnd = end;
    }
    this.#bands = bands;
    this.#micBands = new Float32Array(bands);
    this.#bound = new Float32Array(bands);
    this.#historyHops = Math.max(2, Math.ceil(t.maxDelayMs / ECHO_HOP_MS) + 1);
    this.#refBands = new Float32Array(this.#historyHops * bands).fill(LEVEL_FLOOR_DB);
    this.#refLevels = new Float32Array(this.#historyHops).fill(LEVEL_FLOOR_DB);
    this.#meanRef = new Float32Array(this.#historyHops).fill(LEVEL_FLOOR_DB);
    this.#varRef = new Float32Array(this.#historyHops);
    this.#cov = new Float32Array(this.#historyHops);
    this.#alpha = Math.min(1, ECHO_HOP_MS / t.delayMemoryMs);
    // Per hop, computed once: the audio thread's path reads no module bindings and divides nothing.
    this.#couplingDecayPerHop = (t.couplingDecayDbPerS * ECHO_HOP_MS) / 1000;
    this.#leakDecayPerHop = (t.leakDecayDbPerS * ECHO_HOP_MS) / 1000;
    this.#hangoverHops = Math.floor(t.hangoverMs / ECHO_HOP_MS);
    this.#leak = t.leakPriorDb;
    this.#probationLeft = t.probationHops;
  }

  /** The tracked echo path delay in ms, or null while it is not known. */
  get delayMs(): number | null {
    return this.#delayHops < 0 ? null : this.#delayHops * ECHO_HOP_MS;
  }

  /** The learned coupling and leak ceiling, dB over the reference. */
  get couplingDb(): number {
    return this.#coupling;
  }

  get leakDb(): number {
    return this.#leak;
  }

  /** The user's voice is passing (heard within the hangover). */
  get talking(): boolean {
    return this.#talking;
  }

  /** Whether the agent has been audible recently enough for its echo to still arrive. */
  get agentAudible(): boolean {
    return this.#hop - this.#lastReferenceHop < this.#historyHops;
  }

  /** Microphone and reference samples (same length, context rate); `reference` null is silence. */
  process(mic: Float32Array, reference: Float32Array | null): void {
    const mask = this.#fft.size - 1;
    for (let i = 0; i < mic.length; i++) {
      const m = mic[i]!;
      const r = reference === null ? 0 : (reference[i] ?? 0);
      this.#micRing[this.#ringPos] = m;
      this.#refRing[this.#ringPos] = r;
      this.#ringPos = (this.#ringPos + 1) & mask;
      this.#hopMicSquares += m * m;
      this.#hopRefSquares += r * r;
      if (++this.#hopFill === this.#hopLength) this.#endHop();
    }
  }

  /**
   * The verdict on the frame that ends now (everything processed since the last call): true when
   * it holds nothing but the echo, so it may be held back.
   */
  judgeFrame(): boolean {
    const pass = this.#passSinceJudged || this.#talking;
    const audible = this.#audibleSinceJudged || this.agentAudible;
    this.#passSinceJudged = false;
    this.#audibleSinceJudged = false;
    return audible && !pass;
  }

  #endHop(): void {
    const t = this.tuning;
    const hop = this.#hop;
    const slot = hop % this.#historyHops;
    const micLevel = toDb(this.#hopMicSquares / this.#hopLength);
    const refLevel = toDb(this.#hopRefSquares / this.#hopLength);
    this.#micLevel = micLevel;
    this.#hopMicSquares = 0;
    this.#hopRefSquares = 0;
    this.#hopFill = 0;
    this.#refLevels[slot] = refLevel;
    if (refLevel > t.referenceFloorDb) this.#lastReferenceHop = hop;
    // The reference's spectrum is always kept, so its history is there when the echo comes.
    this.#spectrum(this.#refRing, this.#refBands, slot * this.#bands);
    if (this.agentAudible) {
      this.#audibleSinceJudged = true;
      this.#spectrum(this.#micRing, this.#micBands, 0);
      // The envelopes co-vary where the echo is heard at all (a canceller's residual near the
      // noise floor tells nothing), and only while the user is not talking.
      if (!this.#talking && micLevel > TRACK_FLOOR_DB) this.#trackDelay(hop);
      const verdict = this.#judgeHop(hop);
      if (verdict !== 'echo') this.#passSinceJudged = true;
      this.#userBits = ((this.#userBits << 1) | (verdict === 'user' ? 1 : 0)) >>> 0;
      if (verdict === 'user') {
        this.hopsUser++;
        const recent = popcount(this.#userBits & ((1 << t.onsetWindowHops) - 1));
        if (this.#talking || recent >= t.onsetHops) {
          this.#talking = true;
          this.#lastUserHop = hop;
        }
      } else if (verdict === 'probation') this.hopsProbation++;
      else if (verdict === 'echo') this.hopsEcho++;
    } else {
      // The agent is silent: nothing to guard; a new turn of its starts afresh.
      this.#talking = false;
      this.#probationLeft = t.probationHops;
      this.#userBits = 0;
    }
    if (this.#talking && hop - this.#lastUserHop > this.#hangoverHops) this.#talking = false;
    this.#hop = hop + 1;
  }

  #judgeHop(hop: number): HopVerdict {
    const t = this.tuning;
    const micLevel = this.#micLevel;
    this.#echoBound(hop);
    const broadBound = this.#broadBound;
    const coupling = this.#coupling - this.#couplingDecayPerHop;
    this.#coupling = Math.max(coupling, COUPLING_FLOOR_DB);
    const leak = this.#leak - this.#leakDecayPerHop;
    this.#leak = Math.max(leak, t.leakFloorDb);
    // Where the echo would come from, the agent was silent: whatever the microphone hears now is
    // not its echo (once the delay is known; until then the bound spans every delay).
    if (broadBound <= t.referenceFloorDb) return 'clear';
    const excess = micLevel - broadBound;
    if (micLevel > t.quietDb && this.#standsOut()) {
      this.#echoRun = 0;
      return 'user';
    }
    // The user talks on (within the hangover of their last hop): it passes, and proves nothing.
    if (this.#talking) return 'hangover';
    this.#excess = excess;
    if (micLevel <= t.quietDb || excess <= this.#coupling + t.explainMarginDb) return this.#echo();
    if (this.#probationLeft > 0) {
      this.#probationLeft--;
      this.#echoRun = 0;
      return 'probation';
    }
    // A rise with no band of its own, past its probation: a leak. Learned, so the rest of it
    // (and the next one) is explained.
    return this.#echo();
  }

  /**
   * Whether enough bands of the microphone stand above anything the echo could be: the
   * reference's bands over the delay window, raised by the leak ceiling (or the coupling, when
   * higher) and a margin, counting only the bands loud enough to matter.
   */
  #standsOut(): boolean {
    const t = this.tuning;
    const ceiling = Math.max(this.#leak, this.#coupling) + t.evidenceMarginDb;
    let loudest = LEVEL_FLOOR_DB;
    for (let b = 0; b < this.#bands; b++) if (this.#micBands[b]! > loudest) loudest = this.#micBands[b]!;
    const significant = loudest - t.bandRangeDb;
    let standing = 0;
    for (let b = 0; b < this.#bands; b++) {
      const level = this.#micBands[b]!;
      if (level > significant && level > this.#bound[b]! + ceiling) standing++;
    }
    return standing >= t.bandsToPass;
  }

  /** The hop is the echo: its excess over the reference (#excess) is learned. */
  #echo(): HopVerdict {
    const excess = this.#excess;
    const learned = Math.min(excess, LEARNED_MAX_DB);
    if (learned > this.#coupling) this.#coupling = learned;
    if (learned > this.#leak) this.#leak = learned;
    if (++this.#echoRun >= this.tuning.probationRefillHops) this.#probationLeft = this.tuning.probationHops;
    return 'echo';
  }

  /** The echo's bound per band (into #bound) and broadband (#broadBound): the reference over the delay window. */
  #echoBound(hop: number): void {
    const t = this.tuning;
    const history = this.#historyHops;
    const bands = this.#bands;
    let from = 0;
    let to = history - 1;
    if (this.#delayHops >= 0) {
      from = Math.max(0, this.#delayHops - t.delaySpreadHops);
      if (t.lateSpreadHops >= 0) to = Math.min(history - 1, this.#delayHops + t.lateSpreadHops);
    }
    const bound = this.#bound;
    bound.fill(LEVEL_FLOOR_DB);
    let broad = LEVEL_FLOOR_DB;
    for (let lag = from; lag <= to; lag++) {
      const slot = (hop - lag + history * 2) % history;
      if (this.#refLevels[slot]! > broad) broad = this.#refLevels[slot]!;
      const offset = slot * bands;
      for (let b = 0; b < bands; b++) {
        const level = this.#refBands[offset + b]!;
        if (level > bound[b]!) bound[b] = level;
      }
    }
    this.#broadBound = broad;
  }

  /** Band levels (dB) of the ring's last FFT-size samples, written to `out` from `offset`. */
  #spectrum(ring: Float32Array, out: Float32Array, offset: number): void {
    const size = this.#fft.size;
    const mask = size - 1;
    const re = this.#re;
    const im = this.#im;
    for (let i = 0; i < size; i++) {
      re[i] = ring[(this.#ringPos + i) & mask]! * this.#window[i]!;
      im[i] = 0;
    }
    this.#fft.transform(re, im);
    for (let b = 0; b < this.#bands; b++) {
      let power = 0;
      for (let k = this.#bandStart[b]!; k < this.#bandEnd[b]!; k++)
        power += re[k]! * re[k]! + im[k]! * im[k]!;
      out[offset + b] = toDb(power * this.#bandScale);
    }
  }

  #trackDelay(hop: number): void {
    const micLevel = this.#micLevel;
    const a = this.#alpha;
    const history = this.#historyHops;
    this.#meanMic += a * (micLevel - this.#meanMic);
    const dm = micLevel - this.#meanMic;
    this.#varMic += a * (dm * dm - this.#varMic);
    let best = -1;
    let bestScore = this.tuning.delayConfidence;
    for (let lag = 0; lag < history; lag++) {
      const r = this.#refLevels[(hop - lag + history * 2) % history]!;
      const mean = this.#meanRef[lag]! + a * (r - this.#meanRef[lag]!);
      this.#meanRef[lag] = mean;
      const dr = r - mean;
      const variance = this.#varRef[lag]! + a * (dr * dr - this.#varRef[lag]!);
      this.#varRef[lag] = variance;
      const cov = this.#cov[lag]! + a * (dm * dr - this.#cov[lag]!);
      this.#cov[lag] = cov;
      const denominator = Math.sqrt(this.#varMic * variance);
      const score = denominator > 1e-6 ? cov / denominator : 0;
      if (score > bestScore) {
        bestScore = score;
        best = lag;
      }
    }
    this.#trackedHops++;
    // The estimate narrows the search once it has held, within a few hops, for a second (after
    // two seconds of evidence): a wrong window would miss the echo altogether.
    if (best >= 0 && this.#candidateHops >= 0 && Math.abs(best - this.#candidateHops) <= 2) {
      this.#candidateStableHops++;
    } else {
      this.#candidateStableHops = 0;
    }
    this.#candidateHops = best;
    const settled =
      this.#trackedHops >= SETTLE_EVIDENCE_HOPS && this.#candidateStableHops >= SETTLE_STABLE_HOPS;
    if (settled) this.#delayHops = best;
    else if (best < 0) this.#delayHops = -1;
  }
}

function popcount(bits: number): number {
  let count = 0;
  let rest = bits >>> 0;
  while (rest !== 0) {
    rest &= rest - 1;
    count++;
  }
  return count;
}
