import { VoicewireError } from '../errors.ts';

type ContextWithSink = BaseAudioContext & { setSinkId?: (sinkId: string) => Promise<void>; sinkId?: unknown };

/**
 * Route a context's output (the agent's voice) to another device, mid-call: the playing audio
 * moves without a gap. Throws a VoicewireError of kind `unsupported` where the browser has no
 * `AudioContext.setSinkId` (Firefox, Safari at the time of writing), `invalid-options` for an
 * unknown device, `audio-context` for anything else; the output stays where it was.
 */
export async function setContextOutputDevice(context: BaseAudioContext, deviceId: string): Promise<void> {
  const withSink = context as ContextWithSink;
  if (typeof withSink.setSinkId !== 'function') {
    throw new VoicewireError({
      kind: 'unsupported',
      message: 'This browser cannot choose the audio output device (no AudioContext.setSinkId).',
      fatal: false,
    });
  }
  try {
    // '' is the system default.
    await withSink.setSinkId(deviceId === 'default' ? '' : deviceId);
  } catch (cause) {
    const name = (cause as { name?: string } | null)?.name;
    throw new VoicewireError({
      kind: name === 'NotFoundError' ? 'invalid-options' : 'audio-context',
      message:
        name === 'NotFoundError'
          ? `No audio output device has the id "${deviceId}".`
          : 'The audio output device could not be changed.',
      fatal: false,
      cause,
    });
  }
}
