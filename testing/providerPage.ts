/**
 * The page side of the per-provider suites and bench: what the page sent and received on each
 * socket (read by the provider's wire reader, testing/providerCases.ts, and stamped with the
 * AudioContext's clock on arrival), what it opened (contexts, microphone tracks), and a tap after
 * the conversation's player that records what a listener hears: the spans above −60 dBFS, on the
 * context clock. A test compares these three (the wire, the tap, the library's state) rather
 * than trusting the library's own meters.
 */
import { createPlayer, type Player, type PlayerOptions } from '@voicewire/core';
import type { PageFrame, ProviderCase, ServerFrame, WireReader } from './providerCases.ts';

/** −60 dBFS: below this the agent counts as silent. */
export const SILENT_AMPLITUDE = 0.001;
/** Dips shorter than this inside speech (a zero crossing, a stop consonant) do not split a span. */
const BRIDGED_GAP_MS = 10;

/** A span of audible output, in seconds of the context clock. */
export type Span = [start: number, end: number];

export interface WireEntry<Frame> {
  frame: Frame | null;
  data: unknown;
  /** The live AudioContext's `currentTime` when it crossed (NaN with none). */
  at: number;
}

export interface RecordedSocket {
  readonly ws: WebSocket;
  readonly url: string;
  readonly protocols: string[];
  readonly sent: WireEntry<PageFrame>[];
  readonly received: WireEntry<ServerFrame>[];
}

export interface PageRecorder {
  readonly sockets: RecordedSocket[];
  readonly contexts: AudioContext[];
  readonly tracks: MediaStreamTrack[];
  /** Read the sockets opened from now on with this provider's wire reader. */
  use(providerCase: ProviderCase): void;
  /** The newest AudioContext's `currentTime` (NaN before any). */
  contextTime(): number;
  /**
   * Called with each server frame as it arrives, before the library sees it (a test marks the
   * moment on the tap's clock, {@link OutputTap.mark}).
   */
  onReceive: ((entry: WireEntry<ServerFrame>) => void) | null;
}

let recorder: PageRecorder | null = null;

/**
 * Wrap the page's WebSocket, AudioContext and getUserMedia (once; the library reads these
 * globals when a call starts). A socket's `message` listener is added in its constructor, before
 * the library sets `onmessage`, so a frame's arrival is stamped before the library acts on it.
 */
export function recordPage(): PageRecorder {
  if (recorder !== null) return recorder;
  const sockets: RecordedSocket[] = [];
  const contexts: AudioContext[] = [];
  const tracks: MediaStreamTrack[] = [];
  let reader: () => WireReader = () => ({ fromServer: () => null, fromPage: () => null });
  const contextTime = () => contexts.at(-1)?.currentTime ?? Number.NaN;

  const NativeAudioContext = window.AudioContext;
  window.AudioContext = class extends NativeAudioContext {
    constructor(options?: AudioContextOptions) {
      super(options);
      contexts.push(this);
    }
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    readonly #record: RecordedSocket;
    readonly #wire: WireReader;
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.#wire = reader();
      const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
      this.#record = { ws: this, url: String(url), protocols: list, sent: [], received: [] };
      sockets.push(this.#record);
      this.addEventListener('message', (event: MessageEvent) => {
        const entry = { frame: this.#wire.fromServer(event.data), data: event.data, at: contextTime() };
        this.#record.received.push(entry);
        recorder?.onReceive?.(entry);
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      this.#record.sent.push({ frame: this.#wire.fromPage(data), data, at: contextTime() });
      super.send(data);
    }
  };
  const mediaDevices = navigator.mediaDevices;
  const getUserMedia = mediaDevices.getUserMedia.bind(mediaDevices);
  mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    const stream = await getUserMedia(constraints);
    tracks.push(...stream.getTracks());
    return stream;
  };
  recorder = {
    sockets,
    contexts,
    tracks,
    use(providerCase) {
      reader = providerCase.wire;
    },
    contextTime,
    onReceive: null,
  };
  return recorder;
}

const TAP_SOURCE = `
class ProviderSuiteTap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.start = -1; this.last = -1; this.closed = []; this.next = 0; this.marks = [];
    this.gap = Math.round(sampleRate * ${BRIDGED_GAP_MS} / 1000);
    this.port.onmessage = (event) => this.marks.push(event.data.mark);
  }
  process(inputs) {
    // A mark is stamped with the first quantum rendered after it arrived: the earliest one a
    // command posted to the player at the same moment can change.
    for (const mark of this.marks.splice(0)) this.port.postMessage({ mark, at: currentFrame, rate: sampleRate });
    const channel = inputs[0] && inputs[0][0];
    if (channel) for (let i = 0; i < channel.length; i++) {
      if (Math.abs(channel[i]) <= ${SILENT_AMPLITUDE}) continue;
      const frame = currentFrame + i;
      if (this.start >= 0 && frame - this.last > this.gap) { this.closed.push([this.start, this.last]); this.start = frame; }
      if (this.start < 0) this.start = frame;
      this.last = frame;
    }
    // A span that has ended is reported at once: the context may close right after the last sound.
    const ended = this.start >= 0 && currentFrame + 128 - this.last > this.gap;
    if (ended) { this.closed.push([this.start, this.last]); this.start = -1; }
    // Then about every 27 ms: the spans closed since, the open one, and how far the tap has listened.
    if (ended || currentFrame >= this.next) {
      this.next = currentFrame + 1280;
      this.port.postMessage({ closed: this.closed, open: this.start >= 0 ? [this.start, this.last] : null, upTo: currentFrame + 128, rate: sampleRate });
      this.closed = [];
    }
    return true;
  }
}
registerProcessor('provider-suite-tap', ProviderSuiteTap);
`;

export interface OutputTap {
  /** The conversation's `audio` option: its player plays through the tap. */
  readonly audio: { createPlayer(options: PlayerOptions): Promise<Player> };
  /** What was audible (above −60 dBFS) so far, in context seconds. */
  spans(): Span[];
  /** The tap has reported everything before this context time (seconds; -1 before its first report). */
  heardUpTo(): number;
  /**
   * Stamp this moment on the audio thread's clock: the returned getter gives the context time
   * (seconds) of the first quantum the tap rendered after it (NaN until reported, or with no
   * player yet). The main thread's `currentTime` lags the rendering by up to a device buffer;
   * a command posted to the player now takes effect on this quantum at the earliest.
   */
  mark(): () => number;
  /**
   * Each `interrupt()` the conversation made on its player, stamped on the audio clock as by
   * {@link mark} right after the call returned (the fade was scheduled): the moment the
   * library handled a barge-in or a press, from which the output must be silent within 10 ms.
   */
  interrupts(): number[];
}

/** A tap between the conversation's player and the destination (a new one per call). */
export function createOutputTap(): OutputTap {
  const closed: Span[] = [];
  let open: Span | null = null;
  let upTo = -1;
  let port: MessagePort | null = null;
  const marks: number[] = [];
  const interrupted: (() => number)[] = [];
  const mark = () => {
    const id = marks.length;
    marks.push(Number.NaN);
    port?.postMessage({ mark: id });
    return () => marks[id]!;
  };
  return {
    audio: {
      async createPlayer(options: PlayerOptions) {
        const url = URL.createObjectURL(new Blob([TAP_SOURCE], { type: 'text/javascript' }));
        await options.context.audioWorklet.addModule(url);
        const input = options.context.createGain();
        const tap = new AudioWorkletNode(options.context, 'provider-suite-tap');
        port = tap.port;
        tap.port.onmessage = (event) => {
          if ('mark' in event.data) {
            const { mark, at, rate } = event.data as { mark: number; at: number; rate: number };
            marks[mark] = at / rate;
            return;
          }
          const report = event.data as { closed: Span[]; open: Span | null; upTo: number; rate: number };
          for (const [start, end] of report.closed) closed.push([start / report.rate, end / report.rate]);
          open = report.open ? [report.open[0] / report.rate, report.open[1] / report.rate] : null;
          upTo = report.upTo / report.rate;
        };
        input.connect(tap);
        tap.connect(options.context.destination);
        const player = await createPlayer({ ...options, destination: input });
        const interrupt = () => {
          player.interrupt();
          interrupted.push(mark());
        };
        return new Proxy(player, {
          get(target, key) {
            if (key === 'interrupt') return interrupt;
            const value = Reflect.get(target, key, target) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    },
    spans: () => (open ? [...closed, open] : closed.slice()),
    heardUpTo: () => upTo,
    mark,
    interrupts: () => interrupted.map((stamp) => stamp()),
  };
}

/** Resolves once `check()` holds; rejects after `timeoutMs` saying what was awaited. */
export function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const tick = () => {
      let done = false;
      try {
        done = check();
      } catch {
        done = false;
      }
      if (done) resolve();
      else if (performance.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

// ----------------------------------------------------------------------------------------------
// Reading spans and the wire

/** The audible spans of `samples` (at `sampleRate`, starting at `offset` s), as the tap finds them. */
export function audibleSpans(samples: Float32Array, sampleRate: number, offset = 0): Span[] {
  const gap = Math.round((sampleRate * BRIDGED_GAP_MS) / 1000);
  const spans: Span[] = [];
  let start = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) <= SILENT_AMPLITUDE) continue;
    if (start >= 0 && i - last > gap) {
      spans.push([offset + start / sampleRate, offset + last / sampleRate]);
      start = i;
    }
    if (start < 0) start = i;
    last = i;
  }
  if (start >= 0) spans.push([offset + start / sampleRate, offset + last / sampleRate]);
  return spans;
}

/** Milliseconds of audible audio in `spans` between `from` and `to` (seconds). */
/**
 * How far what the tap heard of an utterance may be from what was sent, in audible ms, for it to
 * count as heard in full: two 20 ms frames (the tap's edges move a few quanta on a loaded
 * machine; a cut utterance loses hundreds of ms).
 */
export const HEARD_IN_FULL_MS = 40;

export function audibleMs(spans: Span[], from = -Infinity, to = Infinity): number {
  let total = 0;
  for (const [start, end] of spans) total += Math.max(0, Math.min(end, to) - Math.max(start, from));
  return total * 1000;
}

/** The first audible moment at or after `from` (seconds), or NaN. */
export function firstAudible(spans: Span[], from = -Infinity): number {
  for (const [start, end] of spans) if (end >= from) return Math.max(start, from);
  return Number.NaN;
}

/** The last audible moment in [`from`, `to`) (seconds), or NaN. */
export function lastAudible(spans: Span[], from = -Infinity, to = Infinity): number {
  let last = Number.NaN;
  for (const [start, end] of spans) if (end >= from && start < to) last = Math.min(end, to);
  return last;
}

/** One utterance of the agent as it arrived: when its first chunk came, and all its samples. */
export interface WireUtterance {
  key: string;
  /** Context time of its first chunk's arrival. */
  firstAt: number;
  samples: Float32Array;
  sampleRate: number;
}

/** The agent's utterances on `socket`, in order of arrival. */
export function wireUtterances(socket: RecordedSocket): WireUtterance[] {
  const parts = new Map<string, { firstAt: number; chunks: Float32Array[]; sampleRate: number }>();
  for (const entry of socket.received) {
    if (entry.frame?.kind !== 'agentAudio') continue;
    const { utterance, samples, sampleRate } = entry.frame;
    const known = parts.get(utterance);
    if (known) known.chunks.push(samples);
    else parts.set(utterance, { firstAt: entry.at, chunks: [samples], sampleRate });
  }
  return [...parts].map(([key, { firstAt, chunks, sampleRate }]) => {
    const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      samples.set(chunk, at);
      at += chunk.length;
    }
    return { key, firstAt, samples, sampleRate };
  });
}

/**
 * Where in `utterance` a listener who heard `heardAudibleMs` of it (above −60 dBFS, as the tap
 * counts) has got to, in ms from its start: the audible milliseconds are mapped back onto the
 * utterance's own timeline, so silence inserted on the way (an underrun) does not count and the
 * speech's own pauses do.
 */
export function positionAfterHearing(utterance: WireUtterance, heardAudibleMs: number): number {
  let left = heardAudibleMs / 1000;
  let position = 0;
  for (const [start, end] of audibleSpans(utterance.samples, utterance.sampleRate)) {
    position = start;
    if (left <= end - start) return (start + left) * 1000;
    left -= end - start;
    position = end;
  }
  return position * 1000;
}

/** Milliseconds from an utterance's start to its first audible sample (the speech's own lead-in). */
export function leadInMs(utterance: WireUtterance): number {
  const spans = audibleSpans(utterance.samples, utterance.sampleRate);
  return spans.length === 0 ? Number.NaN : spans[0]![0] * 1000;
}

/** The server frames of `socket` that tell of a barge-in, with their arrival. */
export function bargeIns(socket: RecordedSocket): WireEntry<ServerFrame>[] {
  return socket.received.filter((entry) => entry.frame?.kind === 'bargeIn');
}

/** The microphone frames the page sent on `socket`. */
export function micFrames(socket: RecordedSocket): WireEntry<PageFrame>[] {
  return socket.sent.filter((entry) => entry.frame?.kind === 'micAudio');
}

/** The page's control frames on `socket` (all but microphone audio), by type, in order. */
export function controls(
  socket: RecordedSocket,
): { type: string; message: Record<string, unknown>; index: number }[] {
  const out: { type: string; message: Record<string, unknown>; index: number }[] = [];
  socket.sent.forEach((entry, index) => {
    if (entry.frame?.kind === 'control')
      out.push({ type: entry.frame.type, message: entry.frame.message, index });
  });
  return out;
}
