/**
 * What is said in the echo suite and the echo benchmark: a greeting that lasts more than a
 * minute (the local agent speaks any `customGreeting`), a reply to ask for when the agent should
 * talk again, and the user's sentence, in another voice, at a normal level and 10 dB quieter.
 */
import { synthesizeSpeech } from '@voicewire/server';

export const MINUTE_GREETING = [
  'Thank you for calling. I am going to talk for a while now, so that we can hear how my own voice comes back through the speakers into the microphone.',
  'A laptop without headphones plays the agent out loud, and its microphone picks that sound up again a few tens of milliseconds later.',
  'The browser has an echo canceller that removes most of it, but not all of it, and what is left can reach the voice activity detector of the agent.',
  'When that happens the agent believes that somebody started to talk, and it stops in the middle of a sentence, which is very annoying for the person listening.',
  'So the library keeps an eye on what it plays, and on how that comes back, and it holds back the microphone while only the echo is there.',
  'When you really talk over me, your voice stands out from the echo, and it goes through at once, so you can still interrupt me whenever you like.',
  'That is the whole idea. I will keep talking for a little longer, reading numbers: one, two, three, four, five, six, seven, eight, nine, ten.',
  'Eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty.',
  'Now a few words about the weather: mild today, with a light wind from the west, a few clouds in the afternoon, and a dry and sunny weekend across most of the country.',
  'If you have a question, this is a good moment to ask it, because I am nearly at the end of this rather long greeting.',
].join(' ');

/** What the agent is asked to say (`sendCustomInput`; it answers "You wrote: …"), about 15 s. */
export const LONG_REPLY =
  'Please keep talking for a while. The weather today is mild, with a light wind from the west and a few clouds in the afternoon. Tomorrow will be a little warmer, and the weekend looks dry and sunny across most of the country, with cooler nights.';

export const USER_SENTENCE = 'Sorry to interrupt, but I have a question about my order.';
/** The user's voice: another of the synthesiser's voices than the agent's (en-us). */
export const USER_VOICE = 'en/en-rp';
/** The normal level: speech peaking at -6 dBFS in the microphone (as the e2e suites' voice). */
export const USER_PEAK = 0.5;
export const QUIET_DB = -10;

/** The user's sentence at `rate`, peaking at {@link USER_PEAK} + `gainDb`. */
export async function userSpeech(rate: number, gainDb = 0): Promise<Float32Array> {
  const samples = await synthesizeSpeech(USER_SENTENCE, { sampleRate: rate, voice: USER_VOICE });
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  const gain = (USER_PEAK * 10 ** (gainDb / 20)) / peak;
  return samples.map((s) => s * gain);
}
