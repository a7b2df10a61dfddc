/**
 * Vendors name their voices (Gemini's `Puck`, Deepgram's `aura-2-thalia-en`, Hume's voice ids);
 * the local agent has mespeak's English voices. A vendor voice is spoken by one of them, the same
 * one every time, so that two voices a client switches between sound apart.
 */
import { availableVoices } from '../audio/index.ts';

/** mespeak's English voices, the default (`en/en-us`) first. */
const ENGLISH_VOICES = ['en/en-us', 'en/en', 'en/en-rp', 'en/en-sc', 'en/en-n', 'en/en-wm'] as const;

/**
 * The mespeak voice for a vendor's voice name: a mespeak voice named as such (`en/en-rp`) is
 * taken as it is; any other name is given one of the English voices by a hash of the name;
 * `undefined` or `''` keeps the default.
 */
export function mespeakVoiceFor(name: string | undefined): string | undefined {
  if (name === undefined || name.trim() === '') return undefined;
  if (availableVoices().includes(name)) return name;
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  const voice = ENGLISH_VOICES[hash % ENGLISH_VOICES.length]!;
  return voice === 'en/en-us' ? undefined : voice;
}
