/**
 * The page side of the echo suite (echo.test.ts) and of `pnpm bench echo`, bundled by esbuild
 * for the three engines: a real conversation with the local agent (the library's default
 * capture: echo cancellation, noise suppression and auto gain on), on a sound server whose
 * speakers come back into the microphone (testing/echoRig.ts).
 *
 * Between the capture and the conversation it watches each frame and the guard's verdict, so
 * the figures come from the audio itself: the uplink's level while the agent talks, and for a
 * barge-in the local agent's own voice activity detector run on the microphone with and without
 * the guard's holding back (the guard's added delay, in frames, whatever the machine's load).
 *
 * It also runs the local agent's detector, as the agent runs it (one for the whole call, same
 * settings), over exactly what goes on the wire: the frame on which the agent decides that the
 * user is talking is known to the sample, so "heard within 300 ms" is measured on the audio clock
 * (from the user's first loud frame to that frame), not on a loaded machine's wall clock.
 */
import {
  type CaptureFrameInfo,
  type CaptureOptions,
  type Conversation,
  createCapture,
  createConversation,
} from '@voicewire/core';
import { createVoiceActivityDetector, type VoiceActivityDetector } from '../../server/src/agent/vad.ts';

export interface EchoStartOptions {
  url: string;
  agentId: string;
  apiKey: string;
  greeting: string;
  echoGuard: boolean;
  echoCancellation?: boolean;
}

export interface EchoState {
  mode: string;
  status: string;
  /** The agent's voice on the player's output, RMS. */
  outputLevel: number;
  /** What the agent is saying (its last turn in the transcript). */
  agentText: string;
}

export interface EchoEvent {
  type: string;
  /** performance.now() when the message arrived. */
  at: number;
}

export interface UplinkLevels {
  /** Frames captured while the agent's voice was audible. */
  frames: number;
  /**
   * Speech starts the agent's detector, run on the uplink as the agent runs it, found in the
   * whole call (a cross-check of the agent's own `voiceActivityStart`s).
   */
  uplinkStarts: number;
  /** Of those, held back by the guard. */
  heldBack: number;
  /** dBFS of what went on the wire for them (held-back frames count as -120). */
  medianDb: number;
  p95Db: number;
  maxDb: number;
}

/**
 * What the page recorded of a barge-in, from arming on (positions in samples of the capture's
 * rate from the first frame after arming); bargeIn.ts turns it into figures.
 */
export interface BargeInCapture {
  sampleRate: number;
  frameSamples: number;
  /** The local agent's detector, fresh at arming, on the raw microphone: onset and decision. */
  rawOnsetSample: number | null;
  rawDetectedSample: number | null;
  /** The same, fresh at the same moment, on what the guard let through. */
  guardedDetectedSample: number | null;
  /** Where the agent's detector, run on the uplink as the agent runs it, decided that someone talks. */
  uplinkDetectedSamples: number[];
  /** performance.now() at which each frame was captured (on the audio clock), and its verdict. */
  capturedAt: number[];
  heldBack: boolean[];
  /** performance.now() when each `voiceActivityStart` since arming arrived. */
  heardAt: number[];
  /** The raw microphone since arming, 16-bit PCM, base64 (empty unless asked for). */
  raw: string;
}

/**
 * The local agent's silence that ends a turn (its `silenceMs`): the suite and the benchmark start
 * it with this, and the page's copy of its detector uses the same.
 */
export const AGENT_SILENCE_MS = 600;

const SILENT_DB = -120;

function levelDb(frame: Uint8Array): number {
  const pcm = new Int16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i]! / 32768) ** 2;
  const meanSquare = sum / Math.max(1, pcm.length);
  return meanSquare > 1e-12 ? 10 * Math.log10(meanSquare) : SILENT_DB;
}

function toFloat(frame: Uint8Array): Float32Array {
  const pcm = new Int16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface Armed {
  at: number;
  /** Where the uplink detector was when armed (samples). */
  uplinkFrom: number;
  raw: VoiceActivityDetector;
  guarded: VoiceActivityDetector;
  rawSample: number | null;
  rawOnsetSample: number | null;
  guardedSample: number | null;
  /** performance.now() at which each frame since arming was captured. */
  capturedAt: number[];
  heldBack: boolean[];
  /** The raw microphone's frames since arming (copies). */
  frames: Uint8Array[];
  frameSamples: number;
  sampleRate: number;
}

/** Longest raw recording kept after arming (frames): 20 s of 20 ms frames. */
const MAX_RECORDED_FRAMES = 1000;

let conversation: Conversation | null = null;
let context: AudioContext | null = null;
let events: EchoEvent[] = [];
let sentDuringAgent: number[] = [];
let heldDuringAgent = 0;
let armed: Armed | null = null;
/** Loud frames the guard let through while the agent was audible: when (performance.now()) and how loud. */
let passed: { at: number; db: number }[] = [];
/** The agent's detector on what goes on the wire (created with the first frame, at its rate). */
let uplinkVad: VoiceActivityDetector | null = null;
/** Where that detector decided that someone talks (samples from its start). */
let uplinkStarts: number[] = [];
/** What the engine applied to the microphone (echo cancellation, noise suppression, auto gain). */
let microphoneSettings: MediaTrackSettings | null = null;

function onFrame(frame: Uint8Array, info: CaptureFrameInfo, sampleRate: number): void {
  const echo = info.echo === true;
  const mode = conversation?.store.getState().mode;
  const agentAudible = mode === 'agentSpeaking' && (conversation?.getOutputLevel() ?? 0) > 0;
  if (agentAudible) {
    const db = echo ? SILENT_DB : levelDb(frame);
    sentDuringAgent.push(db);
    if (echo) heldDuringAgent++;
    else if (db > -60) passed.push({ at: performance.now(), db: Math.round(db) });
  }
  if (uplinkVad === null) {
    uplinkVad = createVoiceActivityDetector({
      sampleRate,
      silenceMs: AGENT_SILENCE_MS,
      onSpeechStart: (event) => uplinkStarts.push(event.detectedSample),
    });
  }
  // What the conversation sends: a frame held back goes out as digital silence.
  if (echo) uplinkVad.processSilence(frame.length >> 1);
  else uplinkVad.process(toFloat(frame));
  if (armed !== null) {
    const ctx = context;
    const capturedAt =
      ctx === null ? performance.now() : performance.now() - (ctx.currentTime - info.captureTime) * 1000;
    armed.capturedAt.push(capturedAt);
    armed.heldBack.push(echo);
    if (armed.frames.length < MAX_RECORDED_FRAMES) armed.frames.push(frame.slice());
    armed.frameSamples = frame.length >> 1;
    armed.sampleRate = sampleRate;
    const samples = toFloat(frame);
    armed.raw.process(samples);
    if (echo) armed.guarded.processSilence(samples.length);
    else armed.guarded.process(samples);
  }
}

const steps = {
  async start(options: EchoStartOptions): Promise<void> {
    events = [];
    sentDuringAgent = [];
    heldDuringAgent = 0;
    armed = null;
    passed = [];
    uplinkVad = null;
    uplinkStarts = [];
    conversation = createConversation({
      agentId: options.agentId,
      url: options.url,
      apiKey: options.apiKey,
      customGreeting: options.greeting,
      echoGuard: options.echoGuard,
      input: options.echoCancellation === false ? { echoCancellation: false } : {},
      reconnect: false,
      wakeLock: false,
      onMessage: (raw) => {
        const type = /"type"\s*:\s*"([^"]+)"/.exec(raw)?.[1] ?? '?';
        if (type !== 'audioStream') events.push({ type, at: performance.now() });
      },
      audio: {
        createCapture(captureOptions: CaptureOptions) {
          context = captureOptions.context ?? null;
          const rate = captureOptions.sampleRate ?? 16_000;
          const getUserMedia =
            captureOptions.getUserMedia ?? navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
          return createCapture({
            ...captureOptions,
            async getUserMedia(constraints) {
              const stream = await getUserMedia(constraints);
              microphoneSettings = stream.getAudioTracks()[0]?.getSettings() ?? null;
              return stream;
            },
            onFrame: (frame, info) => {
              onFrame(frame, info, rate);
              captureOptions.onFrame(frame, info);
            },
          });
        },
      },
    });
    await conversation.start();
  },
  /** The conversation's mode and whether the agent is audible now. */
  state(): EchoState {
    const state = conversation?.store.getState();
    const agentTurns = state?.transcript.filter((turn) => turn.role === 'agent') ?? [];
    return {
      mode: state?.mode ?? 'none',
      status: state?.status ?? 'none',
      outputLevel: conversation?.getOutputLevel() ?? 0,
      agentText: agentTurns.at(-1)?.text ?? '',
    };
  },
  events(): EchoEvent[] {
    return events;
  },
  now(): number {
    return performance.now();
  },
  say(text: string): void {
    conversation?.sendCustomInput(text);
  },
  /** Start listening for a barge-in: fresh detectors on the raw and the guarded microphone. */
  arm(): number {
    const make = (onStart: (sample: number, onset: number) => void) =>
      createVoiceActivityDetector({
        sampleRate: 16_000,
        onSpeechStart: (event) => onStart(event.detectedSample, event.onsetSample),
      });
    const next: Armed = {
      at: performance.now(),
      uplinkFrom: uplinkVad?.position ?? 0,
      raw: make((sample, onset) => {
        if (next.rawSample === null) {
          next.rawSample = sample;
          next.rawOnsetSample = onset;
        }
      }),
      guarded: make((sample) => {
        if (next.guardedSample === null) next.guardedSample = sample;
      }),
      rawSample: null,
      rawOnsetSample: null,
      guardedSample: null,
      capturedAt: [],
      heldBack: [],
      frames: [],
      frameSamples: 320,
      sampleRate: 16_000,
    };
    armed = next;
    return next.at;
  },
  /** What was recorded since arming; the raw microphone's samples only `withRecording`. */
  bargeIn(withRecording = false): BargeInCapture {
    const a = armed;
    if (a === null) throw new Error('arm() first');
    let binary = '';
    for (const frame of withRecording ? a.frames : []) {
      for (let i = 0; i < frame.length; i += 0x8000) {
        binary += String.fromCharCode(...frame.subarray(i, i + 0x8000));
      }
    }
    return {
      sampleRate: a.sampleRate,
      frameSamples: a.frameSamples,
      rawOnsetSample: a.rawOnsetSample,
      rawDetectedSample: a.rawSample,
      guardedDetectedSample: a.guardedSample,
      uplinkDetectedSamples: uplinkStarts
        .filter((sample) => sample > a.uplinkFrom)
        .map((sample) => sample - a.uplinkFrom),
      capturedAt: a.capturedAt,
      heldBack: a.heldBack,
      heardAt: events.filter((e) => e.type === 'voiceActivityStart' && e.at >= a.at).map((e) => e.at),
      raw: btoa(binary),
    };
  },
  uplink(): UplinkLevels {
    return {
      frames: sentDuringAgent.length,
      uplinkStarts: uplinkStarts.length,
      heldBack: heldDuringAgent,
      medianDb: percentile(sentDuringAgent, 0.5),
      p95Db: percentile(sentDuringAgent, 0.95),
      maxDb: sentDuringAgent.length === 0 ? Number.NaN : Math.max(...sentDuringAgent),
    };
  },
  /** The microphone's settings as the engine applied them (`MediaStreamTrack.getSettings()`). */
  microphone(): Record<string, unknown> | null {
    if (microphoneSettings === null) return null;
    const { echoCancellation, noiseSuppression, autoGainControl, sampleRate, channelCount } =
      microphoneSettings;
    return { echoCancellation, noiseSuppression, autoGainControl, sampleRate, channelCount };
  },
  /** Loud frames passed while the agent was audible, and the events, for a failure's report. */
  diagnostics() {
    return { passed, events };
  },
  stats() {
    return conversation?.getStats() ?? null;
  },
  async stop(): Promise<void> {
    await conversation?.stop();
    conversation = null;
    context = null;
    armed = null;
  },
};

(globalThis as unknown as { echoRig: typeof steps }).echoRig = steps;
