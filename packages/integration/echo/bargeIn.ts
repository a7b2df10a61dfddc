/**
 * A barge-in's figures from what the echo page recorded (echoPage.ts, `bargeIn`), in Node: the
 * echo suite's assertions and `pnpm bench echo` read the same ones.
 *
 * Where the user started to speak is found in the raw microphone by the user's voice itself (a
 * cross-correlation with the sentence the rig played), not by a level: without an echo canceller
 * (WebKitGTK) the agent's echo comes back as loud as a user, and a detector on the raw microphone
 * fires on it first.
 */
import { createVoiceActivityDetector } from '@voicewire/server';
import { fft } from '../../../testing/audio.ts';
import { AGENT_SILENCE_MS, type BargeInCapture } from './echoPage.ts';

export interface BargeInResult {
  /** Where the user began to speak (their first sound) in the microphone, ms of audio after arming (null: not found). */
  onsetMs: number | null;
  /** How far the user's voice stood out there (standard deviations of the correlation). */
  match: number;
  /**
   * From that onset to the end of the frame on which the agent's detector (run on the uplink as
   * the agent runs it) decided that the user talks: ms of audio, frame-exact.
   */
  heardMs: number | null;
  /**
   * From the browser capturing the onset to `voiceActivityStart` arriving in the page: ms of wall
   * clock (the socket, the agent and the page's main thread included: load-sensitive).
   */
  heardWallMs: number | null;
  /** What the same detector needs on the user's voice alone (the sentence as played), from its first sound: ms. */
  voiceLatencyMs: number;
  /**
   * The delay the guard added, ms of audio: the detector fresh from arming on what the guard let
   * through against the same on the raw microphone (`basis: 'raw'`); where the raw microphone's
   * detector fired on the echo before the user spoke (no canceller), against the voice alone
   * (`basis: 'voice'`: heard − voice latency).
   */
  addedMs: number | null;
  basis: 'raw' | 'voice' | null;
  /** Frames from the onset on that the guard held back before the first it passed. */
  framesHeldBack: number;
  /**
   * Every decision of the agent's detector on the uplink since arming (ms of audio): one before
   * the onset is the agent cutting itself off on its echo.
   */
  agentDecidedMs: number[];
  /** The fresh detectors' positions (ms after arming), for a failure's report. */
  rawOnsetMs: number | null;
  rawDetectedMs: number | null;
  guardedDetectedMs: number | null;
}

/**
 * The stretch of the user's voice matched against the microphone, from its onset, s: all of
 * the sentence (the agent's voice comes from the same synthesiser, and a second of another
 * sentence can resemble a second of it; three cannot).
 */
const MATCH_S = 10;
/**
 * How far the best match must stand above the correlation at other lags (in standard
 * deviations) to be the user's voice: the browser's canceller, noise suppression and auto gain
 * reshape it, and without a canceller the agent's echo is as loud as a quiet user.
 */
const MIN_MATCH_SIGMAS = 6;
/** A raw detector's onset this far before the voice's was the echo, not the user. */
const ECHO_ONSET_MARGIN_MS = 30;

/** The user's sentence at the capture's rate, with where the agent's detector hears it begin and decide. */
export interface UserVoice {
  samples: Float32Array;
  sampleRate: number;
  /** The first sound of it: the first 10 ms within {@link START_BELOW_PEAK_DB} of its peak. */
  startSample: number;
  onsetSample: number;
  detectedSample: number;
}

/**
 * Where the user starts to speak: their first sound, not where a detector is sure of it (a
 * microphone's auto gain or the echo under it may tip a detector a frame or two sooner).
 */
const START_BELOW_PEAK_DB = 50;

export function userVoice(samples: Float32Array, sampleRate: number): UserVoice {
  let found: { onsetSample: number; detectedSample: number } | null = null;
  const vad = createVoiceActivityDetector({
    sampleRate,
    silenceMs: AGENT_SILENCE_MS,
    onSpeechStart: (event) => {
      found ??= event;
    },
  });
  vad.process(samples);
  // Set in the callback, which the compiler does not follow.
  const heard = found as { onsetSample: number; detectedSample: number } | null;
  if (heard === null) throw new Error("the agent's detector does not hear the user's sentence");
  const { onsetSample, detectedSample } = heard;
  let peak = 0;
  for (const x of samples) peak = Math.max(peak, Math.abs(x));
  const frame = Math.round(sampleRate / 100);
  const floor = (peak * 10 ** (-START_BELOW_PEAK_DB / 20)) ** 2;
  let startSample = onsetSample;
  for (let at = 0; at + frame <= onsetSample; at += frame) {
    let energy = 0;
    for (let i = at; i < at + frame; i++) energy += samples[i]! ** 2;
    if (energy / frame > floor) {
      startSample = at;
      break;
    }
  }
  return { samples, sampleRate, startSample, onsetSample, detectedSample };
}

function decodePcm16(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Float32Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2) / 32768;
  return out;
}

const EMPHASIS = 0.95;
/** Pre-emphasis (a first difference): the correlation peak sharpens, the low rumble counts less. */
function emphasise(samples: Float32Array): Float64Array {
  const out = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! - EMPHASIS * (samples[i - 1] ?? 0);
  return out;
}

/**
 * Where `voice` ({@link MATCH_S} of it from its onset) lies in `recorded`: the offset of the
 * voice's first sample, by cross-correlation (FFT), and how far the match stands above the
 * others (standard deviations of the correlation over every lag).
 */
function locate(
  recorded: Float32Array,
  voice: UserVoice,
  latestOnsetSample: number,
): { offset: number; sigmas: number } {
  const rec = emphasise(recorded);
  const from = voice.onsetSample;
  const template = emphasise(voice.samples).subarray(from, from + Math.round(MATCH_S * voice.sampleRate));
  const length = template.length;
  // Every lag at which a second of the voice lies in the recording: the recording may end
  // before the sentence does (frames come late under load).
  // No later than the rig can have played it: the agent may play the user's words back later
  // (the local agent's reply quotes them), and their echo is the same voice.
  const lags = Math.min(rec.length - Math.min(length, voice.sampleRate) + 1, latestOnsetSample + 1);
  let templateEnergy = 0;
  for (const x of template) templateEnergy += x * x;
  if (lags <= 0 || templateEnergy <= 0) return { offset: 0, sigmas: 0 };
  let size = 1;
  while (size < rec.length + length) size <<= 1;
  const aRe = new Float64Array(size);
  const aIm = new Float64Array(size);
  const bRe = new Float64Array(size);
  const bIm = new Float64Array(size);
  aRe.set(rec);
  bRe.set(template);
  fft(aRe, aIm, false);
  fft(bRe, bIm, false);
  // rec ⋆ template: A · conj(B).
  for (let i = 0; i < size; i++) {
    const re = aRe[i]! * bRe[i]! + aIm[i]! * bIm[i]!;
    const im = aIm[i]! * bRe[i]! - aRe[i]! * bIm[i]!;
    aRe[i] = re;
    aIm[i] = im;
  }
  fft(aRe, aIm, true);
  // The plain correlation, not one normalised by each window's energy: that would favour a
  // quiet stretch holding a syllable of the echo over the voice under the echo.
  const scores = aRe.subarray(0, lags);
  let best = 0;
  for (let start = 1; start < lags; start++) if (scores[start]! > scores[best]!) best = start;
  let sum = 0;
  let sumSquares = 0;
  for (const x of scores) {
    sum += x;
    sumSquares += x * x;
  }
  const mean = sum / lags;
  const deviation = Math.sqrt(Math.max(1e-12, sumSquares / lags - mean * mean));
  return { offset: best - from, sigmas: (scores[best]! - mean) / deviation };
}

/**
 * `latestOnsetMs`: how long after arming the rig can have begun playing the sentence at the
 * latest (its voice feed's buffers included).
 */
export function measureBargeIn(
  capture: BargeInCapture,
  voice: UserVoice,
  latestOnsetMs: number,
): BargeInResult {
  if (voice.sampleRate !== capture.sampleRate) throw new Error('the voice must be at the capture rate');
  const ms = (samples: number | null) => (samples === null ? null : (samples / capture.sampleRate) * 1000);
  const recorded = decodePcm16(capture.raw);
  const { offset, sigmas } = locate(
    recorded,
    voice,
    Math.round((latestOnsetMs / 1000) * capture.sampleRate) + voice.onsetSample,
  );
  const onset = sigmas >= MIN_MATCH_SIGMAS ? offset + voice.startSample : null;
  const voiceLatencyMs = ms(voice.detectedSample - voice.startSample)!;
  // The agent's detector deciding before the user began was the echo (the agent cut itself
  // off), not the user: what counts is its first decision from their onset on.
  const uplinkDetected = onset === null ? undefined : capture.uplinkDetectedSamples.find((at) => at >= onset);
  const heardMs = onset === null || uplinkDetected === undefined ? null : ms(uplinkDetected - onset);
  const onsetFrame = onset === null ? null : Math.floor(onset / capture.frameSamples);
  const onsetAt = onsetFrame === null ? null : (capture.capturedAt[onsetFrame] ?? null);
  // The agent's message for that decision: its decisions and its messages come in the same order.
  const heardAt =
    uplinkDetected === undefined
      ? undefined
      : capture.heardAt[capture.uplinkDetectedSamples.indexOf(uplinkDetected)];
  let framesHeldBack = 0;
  if (onsetFrame !== null) {
    for (let i = onsetFrame; i < capture.heldBack.length && capture.heldBack[i]; i++) framesHeldBack++;
  }
  const rawOnsetMs = ms(capture.rawOnsetSample);
  const onsetMs = ms(onset);
  const rawHeardUser =
    rawOnsetMs !== null && onsetMs !== null && rawOnsetMs >= onsetMs - ECHO_ONSET_MARGIN_MS;
  let addedMs: number | null = null;
  let basis: BargeInResult['basis'] = null;
  if (rawHeardUser && capture.rawDetectedSample !== null && capture.guardedDetectedSample !== null) {
    addedMs = ms(capture.guardedDetectedSample - capture.rawDetectedSample);
    basis = 'raw';
  } else if (!rawHeardUser && heardMs !== null) {
    addedMs = Math.max(0, heardMs - voiceLatencyMs);
    basis = 'voice';
  }
  return {
    onsetMs,
    match: Math.round(sigmas * 10) / 10,
    heardMs,
    heardWallMs: heardAt === undefined || onsetAt === null ? null : Math.round(heardAt - onsetAt),
    agentDecidedMs: capture.uplinkDetectedSamples.map((at) => ms(at)!),
    voiceLatencyMs,
    addedMs,
    basis,
    framesHeldBack,
    rawOnsetMs,
    rawDetectedMs: ms(capture.rawDetectedSample),
    guardedDetectedMs: ms(capture.guardedDetectedSample),
  };
}
