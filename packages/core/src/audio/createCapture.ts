import { VoicewireError } from '../errors.ts';
import { resolveCaptureFormat } from './captureFormat.ts';
import { createAudioContext } from './createAudioContext.ts';
import { createFrequencyTap, emptyFrequencyData, type FrequencyTap } from './frequencyTap.ts';
import { abortError, closedError, loadWorklet, sharedLevels, whileOpen } from './loadWorklet.ts';
import type { AudioLevelReading, Capture, CaptureOptions } from './types.ts';
import { PROCESSORS_SOURCE } from './worklets/generated/processors.generated.ts';
import {
  CAPTURE_PROCESSOR_NAME,
  type CaptureInMessage,
  type CaptureOutMessage,
  type CaptureProcessorOptions,
  LEVEL_SLOT,
} from './worklets/messages.ts';

/** Map a `getUserMedia` rejection to what the user can act on. */
export function microphoneError(cause: unknown): VoicewireError {
  const name = (cause as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return new VoicewireError({
      kind: 'microphone-permission-denied',
      message: 'Microphone access was denied.',
      cause,
    });
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return new VoicewireError({ kind: 'microphone-not-found', message: 'No microphone was found.', cause });
  }
  return new VoicewireError({
    kind: 'microphone-unavailable',
    message: 'The microphone could not be started (is another program using it?).',
    cause,
  });
}

/**
 * Capture the microphone as exact-size frames in the wire encoding.
 *
 * - The sample rate is never forced on `getUserMedia` (Firefox refuses a rate that differs from
 *   the context's, Safari ignores it): the worklet resamples from the context rate with the core
 *   anti-aliased resampler.
 * - Muted means **frames of digital silence, same size and cadence**, and the track disabled. The
 *   wire stays a continuous real-time clock, so the server's voice activity detection sees the
 *   user stop (a turn cut by muting ends instead of hanging) and nothing downstream mistakes the
 *   gap for a network stall; unmuting is instant because the device stays open. A controller
 *   that prefers the shipped SDK's `data: ""` keep-alives can check `capture.muted`.
 * - The level is read on demand: from shared memory when the page is cross-origin isolated,
 *   else from a report the worklet posts every 50 ms while there is sound.
 * - Starting always ends: if `options.signal` aborts or the context is closed before the
 *   capture is running, the promise rejects and the microphone stream (even one granted later)
 *   is stopped. Nothing is left holding the device.
 */
/** After an input change, frames must come within this long (or the graph is restarted)… */
const FLOW_CHECK_MS = 600;
/** …and within this long after the restart, or the switch failed. */
const FLOW_RESTARTED_MS = 2000;
/** Frames that show the input flows again. */
const FLOWING_FRAMES = 3;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createCapture(options: CaptureOptions): Promise<Capture> {
  const { sampleRate, encoding, frameMs, frameSamples } = resolveCaptureFormat(options);
  /** The wire format now (`setFormat` changes it). */
  let wire = { sampleRate, encoding };

  const mediaDevices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  const getUserMedia =
    options.getUserMedia ??
    (mediaDevices?.getUserMedia ? mediaDevices.getUserMedia.bind(mediaDevices) : undefined);
  if (!getUserMedia) {
    throw new VoicewireError({
      kind: 'unsupported',
      message: 'This browser cannot capture audio (getUserMedia needs a secure context: https or localhost).',
    });
  }

  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal);

  const ownsContext = !options.context;
  const context = options.context ?? createAudioContext();

  const constraints = (deviceId: string | undefined): MediaStreamConstraints => ({
    audio: {
      ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
      channelCount: { ideal: 1 },
      echoCancellation: options.echoCancellation ?? true,
      noiseSuppression: options.noiseSuppression ?? true,
      autoGainControl: options.autoGainControl ?? true,
    },
  });
  const openMicrophone = async (deviceId: string | undefined): Promise<MediaStream> => {
    try {
      return await getUserMedia(constraints(deviceId));
    } catch (cause) {
      throw microphoneError(cause);
    }
  };

  // Ask for the microphone and load the worklet at the same time: the permission prompt is the long part.
  const streamPromise = openMicrophone(options.deviceId);
  streamPromise.catch(() => {});
  let stream: MediaStream;
  let node: AudioWorkletNode;
  let source: MediaStreamAudioSourceNode;
  /**
   * Between the microphone and the worklet: what the spectrum tap reads, and what a new device
   * connects to. WebKit renders nothing to a second consumer of a MediaStreamAudioSourceNode that
   * already feeds a worklet (an analyser on it reads zeros); a node in between fans out in every
   * engine.
   */
  let input: GainNode;
  const shared = sharedLevels();
  try {
    await loadWorklet(context, 'capture-processor', options.worklets, () => PROCESSORS_SOURCE, signal);
    stream = await whileOpen(streamPromise, context, signal);
    // Closed or aborted between that settling and now: build nothing (the rest runs synchronously).
    if (signal?.aborted) throw abortError(signal);
    if (context.state === 'closed') throw closedError();
    const processorOptions: CaptureProcessorOptions = {
      wireRate: sampleRate,
      encoding,
      frameSamples,
      muted: false,
      ...(shared ? { levelBuffer: shared.buffer as SharedArrayBuffer } : {}),
      ...(options.echoGuardTuning ? { echoGuardTuning: { ...options.echoGuardTuning } } : {}),
    };
    node = new AudioWorkletNode(context, CAPTURE_PROCESSOR_NAME, {
      // The microphone, and the echo reference (setEchoReference).
      numberOfInputs: 2,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      // The mic may be stereo: let the graph mix it down before the worklet sees it.
      channelCount: 1,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
      processorOptions,
    });
    input = context.createGain();
    input.connect(node);
    source = context.createMediaStreamSource(stream);
    source.connect(input);
    // The worklet writes nothing to its output; connecting it keeps the graph pulling it in every browser.
    node.connect(context.destination);
    if (context.state !== 'running') context.resume().catch(() => {});
  } catch (cause) {
    streamPromise.then(stopTracks, () => {});
    if (ownsContext) context.close().catch(() => {});
    if (cause instanceof VoicewireError) throw cause;
    throw new VoicewireError({ kind: 'audio-context', message: 'Could not start audio capture.', cause });
  }

  let muted = false;
  let stopped = false;
  /** Settles the start: the first frame, or the start timeout's error. */
  let flowing: { resolve(): void; reject(error: VoicewireError): void } | undefined;
  const firstFrame = new Promise<void>((resolve, reject) => {
    flowing = { resolve, reject };
  });
  let framesCaptured = 0;
  let level: AudioLevelReading = { rms: 0, peak: 0 };
  let switching: Promise<void> | undefined;
  /** A device went away while a recovery was under way: checked again once it is done. */
  let lostWhileSwitching = false;
  let tap: FrequencyTap | undefined;
  let reference: AudioNode | null = null;
  const dropReference = () => {
    if (reference === null) return;
    try {
      reference.disconnect(node, 0, 1);
    } catch {
      // Already disconnected (the player closed first).
    }
    reference = null;
  };
  const post = (message: CaptureInMessage, transfer: Transferable[] = []) =>
    node.port.postMessage(message, transfer);

  node.port.onmessage = (event: MessageEvent<CaptureOutMessage>) => {
    const message = event.data;
    if (message.type === 'level') {
      level = { rms: message.rms, peak: message.peak };
      return;
    }
    if (stopped) return;
    framesCaptured++;
    flowing?.resolve();
    // The callback gets its own copy (it may keep it); the buffer goes back to the worklet's pool.
    const frame = new Uint8Array(message.buffer).slice();
    post({ type: 'recycle', buffer: message.buffer }, [message.buffer]);
    try {
      options.onFrame(frame, { captureTime: message.time, echo: message.echo });
    } catch (error) {
      console.error(error);
    }
  };

  const fail = (error: VoicewireError) => {
    if (options.onError) options.onError(error);
    else console.error(error);
  };

  /**
   * After the input changed: resolves once frames flow again. Firefox (on PulseAudio, at least)
   * stops rendering the whole graph when a page opens another input device, until the context
   * is suspended and resumed: if no frames come, the graph gets that restart once. Rejects with
   * `microphone-unavailable` if frames still do not come, so a switch never leaves a silent call.
   */
  const flowAgain = async (): Promise<void> => {
    const flowed = (since: number) => framesCaptured - since >= FLOWING_FRAMES;
    const waitForFrames = async (since: number, waitMs: number) => {
      const deadline = Date.now() + waitMs;
      while (!stopped && !flowed(since) && Date.now() < deadline) await sleep(frameMs);
      return stopped || flowed(since);
    };
    if (await waitForFrames(framesCaptured, FLOW_CHECK_MS)) return;
    if (context.state === 'running') {
      await context.suspend().catch(() => {});
      if (!stopped) await context.resume().catch(() => {});
    }
    if (await waitForFrames(framesCaptured, FLOW_RESTARTED_MS)) return;
    throw new VoicewireError({
      kind: 'microphone-unavailable',
      message: 'The microphone opened but sends no audio (is it muted or in use by another program?).',
    });
  };

  const attach = (next: MediaStream) => {
    const previousStream = stream;
    const previousSource = source;
    source = context.createMediaStreamSource(next);
    // Connect the new device before dropping the old one, so the worklet never sees a gap.
    source.connect(input);
    previousSource.disconnect();
    stream = next;
    watch(next);
    if (previousStream !== next) stopTracks(previousStream);
    for (const track of next.getAudioTracks()) track.enabled = !muted;
  };

  const recover = () => {
    if (stopped) return;
    if (switching) {
      lostWhileSwitching = true;
      return;
    }
    if (stream.getAudioTracks().some((track) => track.readyState === 'live')) return;
    // The device went away (unplugged, revoked): fall back to the default microphone.
    switching = openMicrophone(undefined)
      .then((next) => {
        if (stopped) {
          stopTracks(next);
          return;
        }
        attach(next);
        return flowAgain().catch((error: VoicewireError) => {
          // A device that went away meanwhile sends nothing: the next recovery replaces it.
          if (!stopped && !lostWhileSwitching) fail(error);
        });
      })
      .catch((cause: unknown) => {
        if (stopped) return;
        fail(
          new VoicewireError({
            kind: 'microphone-lost',
            message: 'The microphone was disconnected and no other could be opened.',
            cause,
          }),
        );
      })
      .finally(switched);
  };

  /** A switch or a recovery is over: a device that went away meanwhile is recovered from now. */
  function switched() {
    switching = undefined;
    if (lostWhileSwitching) {
      lostWhileSwitching = false;
      recover();
    }
  }

  const onTrackEnded = () => recover();
  function watch(watched: MediaStream) {
    for (const track of watched.getAudioTracks()) track.addEventListener('ended', onTrackEnded);
  }
  watch(stream);
  const onDeviceChange = () => recover();
  mediaDevices?.addEventListener?.('devicechange', onDeviceChange);

  // Resolve only once audio really flows: a context that never runs (Firefox without an audio
  // device, Safari before a gesture) would otherwise give a capture that silently sends nothing.
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  const timer = setTimeout(() => flowing?.reject(notFlowingError(context)), startTimeoutMs);
  try {
    await whileOpen(firstFrame, context, signal);
  } catch (cause) {
    stopped = true;
    mediaDevices?.removeEventListener?.('devicechange', onDeviceChange);
    for (const track of stream.getAudioTracks()) track.removeEventListener('ended', onTrackEnded);
    node.port.onmessage = null;
    source.disconnect();
    input.disconnect();
    node.disconnect();
    stopTracks(stream);
    if (ownsContext) context.close().catch(() => {});
    throw cause instanceof VoicewireError
      ? cause
      : new VoicewireError({ kind: 'audio-context', message: 'Could not start audio capture.', cause });
  } finally {
    clearTimeout(timer);
    flowing = undefined;
  }

  const capture: Capture = {
    get sampleRate() {
      return wire.sampleRate;
    },
    get encoding() {
      return wire.encoding;
    },
    frameMs,
    setFormat(format) {
      if (stopped || (format.sampleRate === wire.sampleRate && format.encoding === wire.encoding)) return;
      // The same checks as at creation, with the frame length kept: throws invalid-options.
      const next = resolveCaptureFormat({ ...format, frameMs });
      wire = { sampleRate: next.sampleRate, encoding: next.encoding };
      post({
        type: 'format',
        wireRate: next.sampleRate,
        encoding: next.encoding,
        frameSamples: next.frameSamples,
      });
    },
    get muted() {
      return muted;
    },
    get stopped() {
      return stopped;
    },
    get framesCaptured() {
      return framesCaptured;
    },
    mute() {
      if (stopped || muted) return;
      muted = true;
      for (const track of stream.getAudioTracks()) track.enabled = false;
      post({ type: 'mute', muted: true });
      level = { rms: 0, peak: 0 };
    },
    unmute() {
      if (stopped || !muted) return;
      muted = false;
      for (const track of stream.getAudioTracks()) track.enabled = true;
      post({ type: 'mute', muted: false });
    },
    getLevel() {
      if (stopped || muted) return { rms: 0, peak: 0 };
      if (shared) return { rms: shared[LEVEL_SLOT.rms] ?? 0, peak: shared[LEVEL_SLOT.peak] ?? 0 };
      return level;
    },
    setEchoReference(next) {
      if (stopped || next === reference) return;
      dropReference();
      if (next !== null) {
        next.connect(node, 0, 1);
        reference = next;
      }
      post({ type: 'echoReference', connected: reference !== null });
    },
    getFrequencyData(out) {
      if (stopped) return emptyFrequencyData(out);
      if (tap === undefined) {
        tap = createFrequencyTap(context);
        tap.connect(input);
      }
      return tap.read(out);
    },
    async setDevice(deviceId) {
      if (stopped) return;
      await switching?.catch(() => {});
      const next = await openMicrophone(deviceId);
      if (stopped) {
        stopTracks(next);
        return;
      }
      attach(next);
      switching = flowAgain().finally(switched);
      await switching;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      mediaDevices?.removeEventListener?.('devicechange', onDeviceChange);
      for (const track of stream.getAudioTracks()) track.removeEventListener('ended', onTrackEnded);
      post({ type: 'stop' });
      node.port.onmessage = null;
      tap?.close();
      dropReference();
      source.disconnect();
      input.disconnect();
      node.disconnect();
      stopTracks(stream);
      level = { rms: 0, peak: 0 };
      if (ownsContext) context.close().catch(() => {});
    },
  };
  return capture;
}

/** Why no frame came: the context is not running (what to do about it), or the device is silent. */
function notFlowingError(context: AudioContext): VoicewireError {
  const state = context.state as AudioContextState | 'interrupted';
  if (state === 'running') {
    return new VoicewireError({
      kind: 'microphone-unavailable',
      message: 'The microphone opened but sends no audio (is it muted or in use by another program?).',
    });
  }
  return new VoicewireError({
    kind: 'audio-context',
    message:
      state === 'interrupted'
        ? 'Audio is interrupted by the system (a call, another app or the lock screen); try again when it ends.'
        : `Audio did not start (the AudioContext stayed "${state}"): start the conversation from a click or key press, and check that the device has a working sound output.`,
  });
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}
