/**
 * The local agent's audio: speech synthesis (mespeak, offline), streaming encoders for the six
 * output formats (and headerless PCM16 and A-law for other vendors' protocols), and decoders for
 * the client's input encodings.
 */
export { canDecodeInput, createInputDecoder } from './createInputDecoder.ts';
export { createOutputEncoder } from './createOutputEncoder.ts';
export { encodeClip, type TimedChunk } from './encodeClip.ts';
export { wavFile } from './encoders/pcmEncoders.ts';
export { InputDecodeError } from './errors.ts';
export { availableVoices, closeSpeech, prepareSpeech, synthesizeSpeech } from './synthesizeSpeech.ts';
export type {
  AgentAudioFormat,
  AgentInputEncoding,
  DecodedInput,
  InputDecoder,
  OutputEncoder,
  SynthesizeSpeechOptions,
} from './types.ts';
