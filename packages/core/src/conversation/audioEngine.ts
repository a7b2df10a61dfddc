import {
  type AudioContextController,
  createAudioContextController,
} from '../audio/createAudioContextController.ts';
import type { Capture, CaptureOptions, Player, PlayerOptions } from '../audio/types.ts';
import { isVoicewireError } from '../errors.ts';
import type { ConversationError } from './types.ts';

/*
 * The worklet engine (worklet sources, resampler, decoders) is loaded with a dynamic import when
 * a conversation starts, not when this module is imported: pages that only render a button pay
 * for it on the first click, and bundlers split it into its own chunk. It loads while the socket
 * opens, so it adds nothing to the time to connect.
 */
export function defaultCreateCapture(options: CaptureOptions): Promise<Capture> {
  return import('../audio/createCapture.ts').then((m) => m.createCapture(options));
}

export function defaultCreatePlayer(options: PlayerOptions): Promise<Player> {
  return import('../audio/createPlayer.ts').then((m) => m.createPlayer(options));
}

export type OpenedAudioContext =
  | { ok: true; controller: AudioContextController }
  | { ok: false; error: ConversationError };

/**
 * Create the conversation's AudioContext and ask it to run, synchronously: called at the top of
 * `start()` so it happens inside the user's gesture (iOS Safari keeps a context created or resumed
 * outside one silent). The sample rate is never forced: the hardware rate avoids a resampling
 * stage in the browser; the engine's own resamplers convert to and from the wire rates.
 */
export function openAudioContext(options: {
  AudioContext?: typeof AudioContext | undefined;
  sinkId?: string | undefined;
}): OpenedAudioContext {
  let controller: AudioContextController;
  try {
    const init: Parameters<typeof createAudioContextController>[0] = {};
    if (options.AudioContext !== undefined) init.AudioContext = options.AudioContext;
    if (options.sinkId !== undefined && options.sinkId !== '') init.sinkId = options.sinkId;
    controller = createAudioContextController(init);
  } catch (error) {
    if (isVoicewireError(error)) return { ok: false, error: { ...error.toJSON(), fatal: true } };
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { kind: 'audio-context', message, fatal: true } };
  }
  // Not awaited: the call itself must happen now, inside the gesture. A refusal shows up as a
  // context that stays suspended; the controller retries on the next tap or key press.
  controller.resume().catch(() => {});
  return { ok: true, controller };
}
