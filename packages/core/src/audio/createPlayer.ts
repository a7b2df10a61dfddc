import { createResampler } from '../dsp/createResampler.ts';
import { VoicewireError } from '../errors.ts';
import { createDecodeQueue } from './decodeQueue.ts';
import type { DecodedAudio, StreamDecoder } from './decoders/types.ts';
import {
  abortError,
  closedError,
  loadWorklet,
  renderedOnce,
  sharedLevels,
  whileOpen,
} from './loadWorklet.ts';
import { createOutputGate, GATE_FADE_MS, type OutputGate } from './outputGate.ts';
import { withOutputTaps } from './playerOutputTaps.ts';
import { clampVolume, createStreamDecoder, isAsyncFormat, validatePlayerOptions } from './playerParts.ts';
import type { AudioLevelReading, PlaybackPosition, Player, PlayerOptions, PlayerStats } from './types.ts';
import { PROCESSORS_SOURCE } from './worklets/generated/processors.generated.ts';
import {
  LEVEL_SLOT,
  PLAYER_PROCESSOR_NAME,
  type PlayerInMessage,
  type PlayerOutMessage,
  type PlayerProcessorOptions,
} from './worklets/messages.ts';

/** Ring size: a whole reply usually arrives faster than real time, so leave room for several seconds. */
const RING_SECONDS = 8;
/** First audio after the first chunk (target ≤ 60 ms for PCM, the README's "Measured" table); also the jitter step after an underrun. */
const INITIAL_JITTER_MS = 30;
const MAX_JITTER_MS = 300;
/** The worklet's interrupt fade (the output gate ramps over the same length). */
const FADE_MS = GATE_FADE_MS;

type Listener = (value: never) => void;

/**
 * Play the agent's voice: decode each chunk of the session's output format, resample it to the
 * context rate and queue it in the player worklet. Resolves once the worklet is running (the
 * WASM decoder of mp3/ogg/flac keeps loading in the background and is awaited by the first
 * chunk). Never throws from `enqueue`: errors go to the `error` event.
 *
 * Streams and interruptions: `interrupt()` ramps the output gate (outputGate.ts) to silence in
 * {@link FADE_MS} ms on the audio clock, tells the worklet to drop its queue, and drops every later
 * chunk until `newStream()`; each stream has a generation number, so chunks
 * (and decodes still in flight) of an interrupted stream can never play.
 */
export async function createPlayer(options: PlayerOptions): Promise<Player> {
  const { format, sampleRate, context } = options;
  validatePlayerOptions(format, sampleRate);
  if (options.signal?.aborted) throw abortError(options.signal);
  // Start the WASM decoder now, in parallel with the worklet and with the wait for the first chunk.
  const decoder: StreamDecoder = createStreamDecoder(format, sampleRate);

  let node: AudioWorkletNode;
  try {
    // Rejects if the context closes or the signal aborts mid-load (the decoder is closed below).
    await loadWorklet(context, 'player-processor', options.worklets, () => PROCESSORS_SOURCE, options.signal);
    if (options.signal?.aborted) throw abortError(options.signal);
    if (context.state === 'closed') throw closedError();
    const rate = context.sampleRate;
    const shared = sharedLevels();
    const processorOptions: PlayerProcessorOptions = {
      capacityFrames: Math.ceil(rate * RING_SECONDS),
      initialJitterFrames: Math.round((rate * INITIAL_JITTER_MS) / 1000),
      maxJitterFrames: Math.round((rate * MAX_JITTER_MS) / 1000),
      fadeFrames: Math.max(1, Math.round((rate * FADE_MS) / 1000)),
      volume: clampVolume(options.volume ?? 1),
      ...(shared ? { levelBuffer: shared.buffer as SharedArrayBuffer } : {}),
    };
    node = new AudioWorkletNode(context, PLAYER_PROCESSOR_NAME, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions,
    });
    const gate = createOutputGate(context);
    node.connect(gate.node);
    gate.node.connect(options.destination ?? context.destination);
    try {
      // A context whose close() began while the worklet loaded renders no more: reject, not resolve.
      await whileOpen(renderedOnce(context), context, options.signal);
    } catch (cause) {
      node.disconnect();
      gate.disconnect();
      throw cause;
    }
    // The spectrum is read after the gate: what the listener hears, silent from an interrupt on.
    return withOutputTaps(makePlayer(options, node, gate, decoder, shared), context, gate.node);
  } catch (cause) {
    decoder.close();
    if (cause instanceof VoicewireError) throw cause;
    throw new VoicewireError({ kind: 'audio-context', message: 'Could not start the audio player.', cause });
  }
}

function makePlayer(
  options: PlayerOptions,
  node: AudioWorkletNode,
  gate: OutputGate,
  initialDecoder: StreamDecoder,
  shared: Float32Array | undefined,
): Player {
  const { context } = options;
  let { format, sampleRate } = options;
  let decoder = initialDecoder;
  let isAsync = isAsyncFormat(format);
  const contextRate = context.sampleRate;
  const port = node.port;
  const listeners = new Map<string, Set<Listener>>();
  let generation = 0;
  let interrupted = false;
  let closed = false;
  let resampler: { rate: number; resampler: ReturnType<typeof createResampler> } | undefined;
  const status = {
    rms: 0,
    peak: 0,
    bufferedFrames: 0,
    jitterTargetFrames: 0,
    underruns: 0,
    playedFrames: 0,
    /** Context frame of the report; -1 before the current stream's first. */
    frame: -1,
  };
  /**
   * Everything enqueued in the current stream has been heard (or dropped by an interrupt): the
   * worklet ran dry with every push received, and nothing waits in the decoder. The drain asks
   * this instead of waiting for a `drained` that may already have passed.
   */
  let idle = true;
  const stats = { bytesEnqueued: 0, chunksDropped: 0 };
  let interruptAt: number | null = null;
  let lastInterruptionMs: number | null = null;
  /** Whether the last empty buffer was reported as `underrun` (the decoder was behind), so the worklet's later report of the same gap is not counted twice. */
  let gapReportedAsUnderrun = false;

  /** Decoded audio of the current task, posted to the worklet as one message (see `schedule`). */
  let batch: DecodedAudio[] = [];
  let batchGeneration = 0;
  let flushScheduled = false;

  /** Push messages posted to the worklet (it reports how many it had when it ran dry). */
  let pushesSent = 0;

  const post = (message: PlayerInMessage, transfer: Transferable[] = []) => {
    if (closed) return;
    if (message.type === 'push') {
      pushesSent++;
      idle = false;
    }
    port.postMessage(message, transfer);
  };

  const emit = (event: string, value: unknown) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        (listener as (value: unknown) => void)(value);
      } catch (error) {
        // A listener's bug must not stop playback; surface it where developers look.
        console.error(error);
      }
    }
  };

  const fail = (message: string, cause: unknown) => {
    emit('error', new VoicewireError({ kind: 'decode', message, fatal: false, cause }));
  };

  const readBufferedFrames = () =>
    shared ? (shared[LEVEL_SLOT.bufferedFrames] ?? 0) : status.bufferedFrames;

  /**
   * The current stream's played position. Shared memory is written every quantum; a status
   * message comes every few tens of ms while audio plays, so the time since it is added, capped
   * by what was queued then (the queue may have run dry since).
   */
  const playedFrames = (): number => {
    if (shared) return shared[LEVEL_SLOT.playedFrames] ?? 0;
    if (status.frame < 0) return status.playedFrames;
    const since = Math.max(0, Math.round(context.currentTime * contextRate) - status.frame);
    return status.playedFrames + (idle ? 0 : Math.min(since, status.bufferedFrames));
  };

  const decodesPending = () => batch.length > 0 || decodeQueue.pending(generation);

  port.onmessage = (event: MessageEvent<PlayerOutMessage>) => {
    const message = event.data;
    switch (message.type) {
      case 'started':
        if (message.generation === generation) emit('started', message.generation);
        break;
      case 'drained':
        if (message.generation !== generation) break;
        // The queue ran dry while audio of this stream was still being decoded: that is an
        // underrun (the worklet counts it, and grows its jitter buffer, when the audio lands).
        gapReportedAsUnderrun = decodesPending() || message.pushes < pushesSent;
        if (!gapReportedAsUnderrun) idle = true;
        emit(gapReportedAsUnderrun ? 'underrun' : 'drained', message.generation);
        break;
      case 'underrun':
        if (message.generation === generation && !gapReportedAsUnderrun) emit('underrun', message.generation);
        gapReportedAsUnderrun = false;
        break;
      case 'silenced':
        gate.flushed(message.frame / contextRate);
        if (interruptAt !== null) {
          // What is heard: the gate's ramp, or the worklet's own fade if that came first.
          const flushedMs = (message.frame / contextRate - interruptAt) * 1000;
          lastInterruptionMs = Math.max(0, Math.min(flushedMs, GATE_FADE_MS));
          interruptAt = null;
        }
        break;
      case 'status':
        status.rms = message.rms;
        status.peak = message.peak;
        status.bufferedFrames = message.bufferedFrames;
        status.jitterTargetFrames = message.jitterTargetFrames;
        status.underruns = message.underruns;
        status.playedFrames = message.playedFrames;
        status.frame = message.frame;
        break;
    }
  };

  const resample = (samples: Float32Array, rate: number): Float32Array => {
    if (rate === contextRate || samples.length === 0) return samples;
    if (!resampler || resampler.rate !== rate) {
      resampler = { rate, resampler: createResampler(rate, contextRate) };
    }
    const out = new Float32Array(resampler.resampler.maxOutputLength(samples.length));
    const count = resampler.resampler.processInto(samples, out);
    return count === out.length ? out : out.subarray(0, count);
  };

  /** Resample and post what this task decoded: one message per task, not one per chunk. */
  const flushBatch = () => {
    flushScheduled = false;
    const parts = batch;
    batch = [];
    if (closed || interrupted || batchGeneration !== generation || parts.length === 0) return;
    let index = 0;
    while (index < parts.length) {
      // Runs of one rate (a WAV header may change it mid-stream) are resampled together.
      const rate = parts[index]!.sampleRate;
      let end = index;
      let length = 0;
      while (end < parts.length && parts[end]!.sampleRate === rate) length += parts[end++]!.samples.length;
      let joined: Float32Array;
      if (end - index === 1) joined = parts[index]!.samples;
      else {
        joined = new Float32Array(length);
        let offset = 0;
        for (let k = index; k < end; k++) {
          joined.set(parts[k]!.samples, offset);
          offset += parts[k]!.samples.length;
        }
      }
      index = end;
      const samples = resample(joined, rate);
      if (samples.length === 0) continue;
      // Structured cloning a small array is cheaper than transferring it; big ones move.
      if (
        samples.length >= 16_384 &&
        samples.byteOffset === 0 &&
        samples.byteLength === samples.buffer.byteLength
      ) {
        post({ type: 'push', generation, samples }, [samples.buffer]);
      } else {
        post({ type: 'push', generation, samples });
      }
    }
  };

  const deliver = (streamGeneration: number, decoded: DecodedAudio) => {
    if (closed || interrupted || streamGeneration !== generation) {
      stats.chunksDropped++;
      return;
    }
    if (decoded.samples.length === 0) return;
    if (batch.length > 0 && batchGeneration !== streamGeneration) batch = [];
    batchGeneration = streamGeneration;
    batch.push(decoded);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushBatch);
    }
  };

  /** Compressed formats: chunks wait while the decoder is busy, then go in as one. */
  const decodeQueue = createDecodeQueue({
    decoder: () => decoder,
    generation: () => generation,
    interrupted: () => interrupted,
    closed: () => closed,
    deliver,
    ended(streamGeneration) {
      flushBatch();
      if (streamGeneration === generation && !interrupted)
        post({ type: 'endStream', generation: streamGeneration });
    },
    dropped: () => {
      stats.chunksDropped++;
    },
    fail,
    format: () => format,
  });

  const player: Player = {
    get format() {
      return format;
    },
    get sampleRate() {
      return sampleRate;
    },
    setFormat(nextFormat, nextRate) {
      if (closed || (nextFormat === format && nextRate === sampleRate)) return;
      validatePlayerOptions(nextFormat, nextRate);
      // Whatever the old decoder held belongs to the old format: dropped with it.
      decoder.close();
      decodeQueue.clear();
      batch = [];
      format = nextFormat;
      sampleRate = nextRate;
      decoder = createStreamDecoder(format, sampleRate);
      isAsync = isAsyncFormat(format);
    },
    enqueue(bytes) {
      if (closed) return;
      if (interrupted) {
        stats.chunksDropped++;
        return;
      }
      if (!(bytes instanceof Uint8Array)) {
        fail('enqueue() takes a Uint8Array.', undefined);
        return;
      }
      stats.bytesEnqueued += bytes.length;
      idle = false;
      if (isAsync) {
        decodeQueue.push(generation, bytes);
        return;
      }
      try {
        deliver(generation, decoder.decode(bytes) as DecodedAudio);
      } catch (cause) {
        fail(`Could not decode a ${format} chunk.`, cause);
      }
    },
    interrupt() {
      if (closed) return;
      // The gate first: it silences the output on the audio clock, before the port message lands.
      const at = gate.close();
      if (!interrupted) interruptAt = at;
      interrupted = true;
      batch = [];
      // Chunks still waiting for the decoder are dropped now; one in the decoder is dropped when it comes out.
      stats.chunksDropped += decodeQueue.dropWaiting();
      post({ type: 'interrupt' });
      // Nothing more of this stream will be heard.
      idle = true;
    },
    newStream() {
      if (closed) return;
      generation++;
      interrupted = false;
      batch = [];
      gapReportedAsUnderrun = false;
      resampler?.resampler.reset();
      if (isAsync) decodeQueue.reset();
      else {
        void decoder.reset();
      }
      post({ type: 'newStream', generation });
      gate.open();
      idle = true;
      status.playedFrames = 0;
      status.frame = -1;
      if (shared) shared[LEVEL_SLOT.playedFrames] = 0;
    },
    endStream() {
      if (closed || interrupted) return;
      if (isAsync) {
        decodeQueue.end(generation);
        return;
      }
      deliver(generation, decoder.flush() as DecodedAudio);
      flushBatch();
      post({ type: 'endStream', generation });
    },
    setVolume(volume) {
      post({ type: 'volume', volume: clampVolume(volume) });
    },
    getLevel(): AudioLevelReading {
      if (shared) return { rms: shared[LEVEL_SLOT.rms] ?? 0, peak: shared[LEVEL_SLOT.peak] ?? 0 };
      return { rms: status.rms, peak: status.peak };
    },
    getPosition(): PlaybackPosition {
      const bufferedMs = (readBufferedFrames() / contextRate) * 1000;
      return {
        playedMs: (playedFrames() / contextRate) * 1000,
        pendingMs: idle ? 0 : Math.max(bufferedMs, 1),
      };
    },
    getStats(): PlayerStats {
      const read = shared
        ? {
            bufferedFrames: shared[LEVEL_SLOT.bufferedFrames] ?? 0,
            jitterTargetFrames: shared[LEVEL_SLOT.jitterTargetFrames] ?? 0,
            underruns: shared[LEVEL_SLOT.underruns] ?? 0,
          }
        : status;
      return {
        bufferedMs: (read.bufferedFrames / contextRate) * 1000,
        jitterTargetMs: (read.jitterTargetFrames / contextRate) * 1000,
        underruns: read.underruns,
        generation,
        bytesEnqueued: stats.bytesEnqueued,
        chunksDropped: stats.chunksDropped,
        lastInterruptionMs,
      };
    },
    on(event: string, listener: Listener) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    close() {
      if (closed) return;
      post({ type: 'stop' });
      closed = true;
      decodeQueue.clear();
      batch = [];
      port.onmessage = null;
      try {
        node.disconnect();
      } catch {
        // Already disconnected.
      }
      gate.disconnect();
      decoder.close();
      listeners.clear();
    },
  };
  return player;
}
