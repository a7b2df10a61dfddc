import { VoicewireError } from '../errors.ts';

export interface CreateAudioContextOptions {
  /** Injectable for tests; defaults to the global `AudioContext`, else Safari's `webkitAudioContext`. */
  AudioContext?: typeof AudioContext | undefined;
  /** @defaultValue 'interactive' */
  latencyHint?: AudioContextLatencyCategory | number | undefined;
}

/**
 * The one place an AudioContext is made: the standard constructor, else the prefixed one older
 * Safari has (`webkitAudioContext`, iOS before 14.5). The sample rate is never forced: the
 * hardware rate avoids a resampling stage in the browser; the engine's own resamplers convert to
 * and from the wire rates. Throws a VoicewireError: `unsupported` without Web Audio,
 * `audio-context` when the browser refuses to make one.
 */
export function createAudioContext(options: CreateAudioContextOptions = {}): AudioContext {
  const Ctor =
    options.AudioContext ??
    (globalThis as { AudioContext?: typeof AudioContext }).AudioContext ??
    (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) throw new VoicewireError({ kind: 'unsupported', message: 'This browser has no Web Audio API.' });
  try {
    return new Ctor({ latencyHint: options.latencyHint ?? 'interactive' });
  } catch (cause) {
    throw new VoicewireError({ kind: 'audio-context', message: 'Could not create an AudioContext.', cause });
  }
}
