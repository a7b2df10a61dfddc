import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '@voicewire/core';
import { OUTPUT_FORMATS } from '@voicewire/core/playai/protocol';
import { createFlacEncoder } from './encoders/flacEncoder.ts';
import { createMp3Encoder } from './encoders/mp3Encoder.ts';
import { createOggEncoder } from './encoders/oggEncoder.ts';
import { AlawEncoder, MulawEncoder, Pcm16Encoder, RawEncoder, WavEncoder } from './encoders/pcmEncoders.ts';
import type { AgentAudioFormat, OutputEncoder } from './types.ts';

/**
 * A streaming encoder for one agent audio stream in the session's `outputFormat` (or one of the
 * headerless codecs other protocols use, `pcm16` and `alaw`), fed mono float samples at
 * `sampleRate` (8000–96000 Hz, as setup allows). See `OutputEncoder`.
 */
export async function createOutputEncoder(
  format: AgentAudioFormat,
  sampleRate: number,
): Promise<OutputEncoder> {
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE_HZ || sampleRate > MAX_SAMPLE_RATE_HZ) {
    throw new RangeError(
      `createOutputEncoder: sample rate ${sampleRate} Hz is outside ${MIN_SAMPLE_RATE_HZ}–${MAX_SAMPLE_RATE_HZ} Hz`,
    );
  }
  switch (format) {
    case 'mp3':
      return createMp3Encoder(sampleRate);
    case 'ogg':
      return createOggEncoder(sampleRate);
    case 'flac':
      return createFlacEncoder(sampleRate);
    case 'wav':
      return new WavEncoder(sampleRate);
    case 'raw':
      return new RawEncoder(sampleRate);
    case 'mulaw':
      return new MulawEncoder(sampleRate);
    case 'pcm16':
      return new Pcm16Encoder(sampleRate);
    case 'alaw':
      return new AlawEncoder(sampleRate);
    default:
      throw new RangeError(
        `createOutputEncoder: unknown format ${JSON.stringify(format)} (expected one of ${[...OUTPUT_FORMATS, 'pcm16', 'alaw'].join(', ')})`,
      );
  }
}
