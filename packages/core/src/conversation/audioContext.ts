import {
  type AudioContextController,
  createAudioContextController,
} from '../audio/createAudioContextController.ts';
import { toConversationError } from './conversationError.ts';
import { noop } from './safely.ts';
import type { ConversationError } from './types.ts';

export type OpenedAudioContext =
  | { ok: true; controller: AudioContextController }
  | { ok: false; error: ConversationError };

/**
 * Create the conversation's AudioContext and ask it to run, synchronously: called at the top of
 * `start()` so it happens inside the user's gesture (iOS Safari keeps a context created or resumed
 * outside one silent).
 */
export function openAudioContext(options: {
  AudioContext: typeof AudioContext | undefined;
  output: { deviceId: string | undefined };
}): OpenedAudioContext {
  let controller: AudioContextController;
  try {
    const init: Parameters<typeof createAudioContextController>[0] = {};
    if (options.AudioContext !== undefined) init.AudioContext = options.AudioContext;
    if (options.output.deviceId !== undefined) init.sinkId = options.output.deviceId;
    controller = createAudioContextController(init);
  } catch (error) {
    return { ok: false, error: toConversationError(error, 'audio-context') };
  }
  // Not awaited: the call itself must happen now, inside the gesture. A refusal shows up as a
  // context that stays suspended; the controller retries on the next tap or key press.
  controller.resume().catch(noop);
  return { ok: true, controller };
}
