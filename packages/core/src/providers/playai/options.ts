import type { WireInputFormat } from '../types.ts';
import type { OutputFormat } from './messages.ts';

export interface PlayAIOptions {
  /** The agent to talk to. */
  agentId: string;
  /** Replaces the agent's greeting for this conversation (`setup.customGreeting`). */
  customGreeting?: string;
  /** Added to the agent's prompt for this conversation (`setup.prompt`). */
  prompt?: string;
  /**
   * The API key, sent in `setup` (prototypes only: in production a relay injects it). The
   * conversation's `apiKey` option is used when this is absent.
   */
  apiKey?: string;
}

/**
 * The microphone's format unless the integrator picks one (`input` option): 16-bit PCM at
 * 16 kHz, the rate speech recognisers work at.
 */
export const DEFAULT_PLAYAI_INPUT: WireInputFormat = { encoding: 'linear16', sampleRate: 16_000 };
/**
 * The agent's format unless the integrator picks one (`output` option): 16-bit PCM WAV at 24 kHz.
 * Measured (README "Measured"): the PCM formats are audible first (~20 ms from the first chunk,
 * mp3 ~75 ms), and wav carries 16-bit samples in half the bytes of `raw` float32; 24 kHz covers
 * the voice's band at about half the bytes of 44.1/48 kHz.
 */
export const DEFAULT_PLAYAI_OUTPUT: { format: OutputFormat; sampleRate: number } = {
  format: 'wav',
  sampleRate: 24_000,
};
