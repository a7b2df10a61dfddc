import { VoicewireError } from '../errors.ts';
import {
  AUDIO_FORMATS,
  type AudioFormat,
  MAX_SAMPLE_RATE_HZ,
  MIN_SAMPLE_RATE_HZ,
} from '../providers/types.ts';
import { createMulawDecoder } from './decoders/createMulawDecoder.ts';
import { createPcm16Decoder } from './decoders/createPcm16Decoder.ts';
import { createRawFloat32Decoder } from './decoders/createRawFloat32Decoder.ts';
import { createWasmDecoder } from './decoders/createWasmDecoder.ts';
import { createWavDecoder } from './decoders/createWavDecoder.ts';
import type { StreamDecoder } from './decoders/types.ts';

/** The streaming decoder of an output format (mp3/ogg/flac load their WASM in the background). */
export function createStreamDecoder(format: AudioFormat, sampleRate: number): StreamDecoder {
  if (format === 'pcm16') return createPcm16Decoder(sampleRate);
  if (format === 'raw') return createRawFloat32Decoder(sampleRate);
  if (format === 'wav') return createWavDecoder(sampleRate);
  if (format === 'mulaw') return createMulawDecoder(sampleRate);
  return createWasmDecoder(format, sampleRate);
}

/** mp3, ogg and flac decode in WASM, asynchronously; the PCM formats decode in line. */
export function isAsyncFormat(format: string): boolean {
  return format === 'mp3' || format === 'ogg' || format === 'flac';
}

export function clampVolume(volume: number): number {
  return Number.isFinite(volume) ? Math.min(Math.max(volume, 0), 4) : 1;
}

export function joinBytes(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Throws an `invalid-options` error for an unknown format or a rate outside the protocol's range. */
export function validatePlayerOptions(format: AudioFormat, sampleRate: number): void {
  if (!(AUDIO_FORMATS as readonly string[]).includes(format)) {
    throw new VoicewireError({
      kind: 'invalid-options',
      message: `Unknown output format "${String(format)}".`,
    });
  }
  if (!(sampleRate >= MIN_SAMPLE_RATE_HZ && sampleRate <= MAX_SAMPLE_RATE_HZ)) {
    throw new VoicewireError({
      kind: 'invalid-options',
      message: `Output sample rate ${sampleRate} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ}.`,
    });
  }
}
