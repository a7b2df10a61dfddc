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
  /** Of those, held back by the guard. */
  heldBack: number;
  /** dBFS of what went on the wire for them (held-back frames count as -120). */
  medianDb: number;
  p95Db: number;
  maxDb: number;
}

export interface BargeInResult {
  /** The local agent's VAD on the raw microphone: when it heard the user (ms after arming). */
  rawDetectedMs: number | null;
  /** The same VAD on what the guard let through. */
  guardedDetectedMs: number | null;
  /** guarded − raw, in ms of audio (frame-exact): the delay the guard added. */
  addedMs: number | null;
  /** From the browser capturing the user's first loud frame to `voiceActivityStart` arriving, ms. */
  heardMs: number | null;
  /** Frames of the user's speech (from the raw onset) the guard held back. */
  framesHeldBack: number;
}

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
  raw: VoiceActivityDetector;
  guarded: VoiceActivityDetector;
  rawSample: number | null;
  rawOnsetSample: number | null;
  guardedSample: number | null;
  /** performance.now() at which each frame since arming was captured. */
  capturedAt: number[];
  heldBack: boolean[];
  frameSamples: number;
  sampleRate: number;
}

let conversation: Conversation | null = null;
let context: AudioContext | null = null;
let events: EchoEvent[] = [];
let sentDuringAgent: number[] = [];
let heldDuringAgent = 0;
let armed: Armed | null = null;
/** Loud frames the guard let through while the agent was audible: when (performance.now()) and how loud. */
let passed: { at: number; db: number }[] = [];

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
  if (armed !== null) {
    const ctx = context;
    const capturedAt =
      ctx === null ? performance.now() : performance.now() - (ctx.currentTime - info.captureTime) * 1000;
    armed.capturedAt.push(capturedAt);
    armed.heldBack.push(echo);
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
          return createCapture({
            ...captureOptions,
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
      frameSamples: 320,
      sampleRate: 16_000,
    };
    armed = next;
    return next.at;
  },
  bargeIn(): BargeInResult {
    const a = armed;
    if (a === null) throw new Error('arm() first');
    const ms = (sample: number | null) => (sample === null ? null : (sample / a.sampleRate) * 1000);
    const onsetFrame = a.rawOnsetSample === null ? null : Math.floor(a.rawOnsetSample / a.frameSamples);
    const onsetAt = onsetFrame === null ? null : (a.capturedAt[onsetFrame] ?? null);
    const heard = events.find((e) => e.type === 'voiceActivityStart' && e.at >= a.at);
    let framesHeldBack = 0;
    if (onsetFrame !== null) {
      for (let i = onsetFrame; i < a.heldBack.length && i < onsetFrame + 50; i++) {
        if (!a.heldBack[i]) break;
        framesHeldBack++;
      }
    }
    return {
      rawDetectedMs: ms(a.rawSample),
      guardedDetectedMs: ms(a.guardedSample),
      addedMs: a.rawSample === null || a.guardedSample === null ? null : ms(a.guardedSample - a.rawSample),
      heardMs: heard === undefined || onsetAt === null ? null : heard.at - onsetAt,
      framesHeldBack,
    };
  },
  uplink(): UplinkLevels {
    return {
      frames: sentDuringAgent.length,
      heldBack: heldDuringAgent,
      medianDb: percentile(sentDuringAgent, 0.5),
      p95Db: percentile(sentDuringAgent, 0.95),
      maxDb: sentDuringAgent.length === 0 ? Number.NaN : Math.max(...sentDuringAgent),
    };
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
