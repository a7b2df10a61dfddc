import type { Capture, CaptureOptions, Player, PlayerOptions } from '../audio/types.ts';
import type { WireInputFormat, WireOutputFormat } from '../providers/types.ts';
import { toConversationError } from './conversationError.ts';
import type { ResolvedOptions } from './options.ts';
import { callAsync, guard, noop, safely } from './safely.ts';
import type { ConversationError } from './types.ts';

/** Where the parts go as they load; nothing is handed over once `ended()` says the run is over. */
export interface AudioStartHandlers {
  ended(): boolean;
  /** `echo`: the echo guard's verdict (the frame holds only the agent's echo). */
  frame(frame: Uint8Array, echo: boolean): void;
  /** The capture failed after it started (the device was lost and no other could be opened). */
  captureFailed(error: ConversationError): void;
  capture(capture: Capture): void;
  player(player: Player): void;
}

/**
 * Load the microphone capture and the player at the same time, on the conversation's context.
 * Resolves with null once both are live, with the error that stops the start, or with null if
 * the run ended first (`signal` then aborts whatever is still loading).
 *
 * A part that loads after the end is released the moment it resolves, whether or not the other
 * ever settles: a worklet load on a closed context may hang, and the microphone must not. The
 * player goes live as soon as it is ready, without waiting for the microphone: the greeting
 * must not wait for the user to answer the permission prompt.
 */
export async function startAudio(
  options: ResolvedOptions,
  formats: { input: WireInputFormat; output: WireOutputFormat },
  context: AudioContext,
  volume: number,
  signal: AbortSignal | undefined,
  handlers: AudioStartHandlers,
): Promise<ConversationError | null> {
  const { input } = options;
  const captureOptions: CaptureOptions = {
    sampleRate: formats.input.sampleRate,
    encoding: formats.input.encoding,
    frameMs: options.frameMs,
    context,
    signal,
    onFrame: (frame, info) => handlers.frame(frame, options.echoGuard && info?.echo === true),
    onError: (error) => handlers.captureFailed(toConversationError(error, 'microphone-lost')),
  };
  // Only what the integrator set: the engine's defaults apply to the rest.
  for (const key of ['deviceId', 'echoCancellation', 'noiseSuppression', 'autoGainControl'] as const) {
    if (input[key] !== undefined) (captureOptions as unknown as Record<string, unknown>)[key] = input[key];
  }
  if (options.getUserMedia !== undefined) captureOptions.getUserMedia = options.getUserMedia;
  if (options.worklets !== undefined) captureOptions.worklets = options.worklets;
  const playerOptions: PlayerOptions = {
    format: formats.output.format,
    sampleRate: formats.output.sampleRate,
    context,
    volume,
    signal,
  };
  if (options.worklets !== undefined) playerOptions.worklets = options.worklets;

  const capturePromise = callAsync(() => options.createCapture(captureOptions));
  const playerPromise = callAsync(() => options.createPlayer(playerOptions));
  capturePromise.then((capture) => {
    if (handlers.ended()) safely(() => capture.stop());
    else handlers.capture(capture);
  }, noop);
  playerPromise.then((player) => {
    if (handlers.ended()) safely(() => player.close());
    else guard(() => handlers.player(player));
  }, noop);
  const [captureResult, playerResult] = await Promise.allSettled([capturePromise, playerPromise]);
  // An end path got here first: it released whatever had loaded.
  if (handlers.ended()) return null;
  if (captureResult.status === 'rejected') {
    return toConversationError(captureResult.reason, 'microphone-unavailable');
  }
  if (playerResult.status === 'rejected') return toConversationError(playerResult.reason, 'audio-context');
  // The echo guard hears what the speakers play (see ConversationOptions.echoGuard).
  const output = playerResult.value.output;
  if (options.echoGuard && output !== undefined) safely(() => captureResult.value.setEchoReference?.(output));
  return null;
}
