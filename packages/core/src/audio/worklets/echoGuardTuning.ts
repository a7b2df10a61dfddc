/**
 * The echo guard's tuning (EchoGuard.ts): what each number means, and the defaults, chosen on
 * the echo rig (testing/echoRig.ts; `pnpm bench echo`). Overridable in the lab and the tests.
 */
/** Analysis hop: the levels and spectra of the microphone and of the reference, every 10 ms. */
export const ECHO_HOP_MS = 10;

export interface EchoGuardTuning {
  /** Longest echo path (output latency + room + input latency) considered, ms. */
  maxDelayMs: number;
  /** A hop this close to the learned coupling (dB) is the echo. */
  explainMarginDb: number;
  /** How fast the learned coupling falls when the echo gets weaker (the canceller converging), dB/s. */
  couplingDecayDbPerS: number;
  /**
   * The least a leak is assumed to reach, dB over the reference: the raw echo of loudspeakers as
   * loud at the microphone as the reference itself, which an echo canceller leaks when it loses
   * track (auto gain lifts it further). The user must stand out of that, band by band.
   */
  leakFloorDb: number;
  /** The leak ceiling before anything is learned (auto gain may lift a leak over the raw echo). */
  leakPriorDb: number;
  /** How fast a louder leak learned (or the prior) is forgotten, dB/s. */
  leakDecayDbPerS: number;
  /** How far above the leak ceiling a band must be to be the user's, dB. */
  evidenceMarginDb: number;
  /** Bands that must stand out for a hop to be the user's. */
  bandsToPass: number;
  /** A hop quieter than this, dBFS, is no evidence of anything (too quiet for a voice detector). */
  quietDb: number;
  /** Only bands within this many dB of the hop's loudest band count as evidence. */
  bandRangeDb: number;
  /** A reference quieter than this (dBFS) is the agent silent. */
  referenceFloorDb: number;
  /**
   * Hops of an unexplained rise let through before it counts as a leak: as long as a voice
   * detector needs to start, and long enough for a user's voice to show a band of its own.
   */
  probationHops: number;
  /** Hops of echo that give the probation back. */
  probationRefillHops: number;
  /** Hops of the user's (within `onsetWindowHops`) that make their voice pass continuously. */
  onsetHops: number;
  onsetWindowHops: number;
  /** The user stays heard this long after the last hop of theirs, ms. */
  hangoverMs: number;
  /** Delay tracking: its estimate is used once its normalized covariance reaches this. */
  delayConfidence: number;
  /** Hops before the tracked delay searched for the echo. */
  delaySpreadHops: number;
  /** Hops after it (the delay can grow when a buffer fills); -1: up to the longest delay. */
  lateSpreadHops: number;
  /** Time constant of the delay tracker, ms. */
  delayMemoryMs: number;
  /** Bands from 150 Hz up to 7.5 kHz (or 0.45 × the rate). */
  bands: number;
}

export const ECHO_GUARD_TUNING: EchoGuardTuning = {
  maxDelayMs: 600,
  explainMarginDb: 6,
  couplingDecayDbPerS: 10,
  leakFloorDb: 0,
  leakPriorDb: 20,
  leakDecayDbPerS: 0.5,
  evidenceMarginDb: 6,
  bandsToPass: 2,
  quietDb: -55,
  bandRangeDb: 30,
  referenceFloorDb: -60,
  probationHops: 3,
  probationRefillHops: 20,
  onsetHops: 2,
  onsetWindowHops: 6,
  hangoverMs: 300,
  delayConfidence: 0.3,
  delaySpreadHops: 8,
  lateSpreadHops: 8,
  delayMemoryMs: 5000,
  bands: 20,
};
