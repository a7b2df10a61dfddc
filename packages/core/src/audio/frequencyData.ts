/**
 * The spectrum's shape and its silence, apart from the tap (`frequencyTap.ts`): the conversation
 * needs these before `start()` loads the audio engine, and a bundler loads at import, whole, every
 * module the import shares with the lazy engine.
 */

/** 128 bins: enough for any bar count a visualiser draws; an FFT of 256 is cheap at 48 kHz. */
export const FREQUENCY_FFT_SIZE = 256;

/** What a stopped or not-yet-started source reads: silence. */
export function emptyFrequencyData(out?: Uint8Array): Uint8Array {
  if (out === undefined) return new Uint8Array(FREQUENCY_FFT_SIZE / 2);
  out.fill(0);
  return out;
}
