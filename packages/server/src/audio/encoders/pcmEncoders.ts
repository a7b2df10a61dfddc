import { float32ToBytes, floatToPcm16, mulawEncode, pcm16ToBytes } from '@voicewire/core';
import { alawEncode } from '../codec/alaw.ts';
import type { OutputEncoder } from '../types.ts';
import { sanitizeSamples } from './sanitize.ts';

/** Bytes of the canonical 44-byte RIFF/WAVE header (RIFF + fmt + data chunk headers). */
export const WAV_HEADER_BYTES = 44;

/**
 * Size fields of a WAV stream whose length is not known when its header goes out. 0xFFFFFFFF is
 * the convention ffmpeg, sox and browsers' streaming decoders read as "until the end of the
 * stream"; writing 0 instead makes some decoders play nothing.
 */
const WAV_UNKNOWN_SIZE = 0xffff_ffff;

/** A RIFF/WAVE header for mono 16-bit PCM with both sizes unknown (see `WAV_UNKNOWN_SIZE`). */
function wavStreamHeader(sampleRate: number): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, WAV_UNKNOWN_SIZE, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // WAVE_FORMAT_PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, WAV_UNKNOWN_SIZE, true);
  return header;
}

const EMPTY = new Uint8Array(0);

abstract class PcmEncoder implements OutputEncoder {
  abstract readonly format: 'wav' | 'raw' | 'mulaw' | 'pcm16' | 'alaw';
  readonly streamSampleRate: number;
  #finished = false;
  constructor(readonly sampleRate: number) {
    this.streamSampleRate = sampleRate;
  }
  protected abstract bytes(samples: Float32Array): Uint8Array;
  encode(samples: Float32Array): Uint8Array {
    if (this.#finished) throw new Error(`${this.format} encoder: encode() after finish()`);
    return this.bytes(samples);
  }
  finish(): Uint8Array {
    if (this.#finished) throw new Error(`${this.format} encoder: finish() called twice`);
    this.#finished = true;
    // PCM has no codec state; only a WAV stream that never got a sample still owes its header.
    return this.bytes(new Float32Array(0));
  }
}

/** 16-bit little-endian PCM behind a streaming RIFF/WAVE header, sent with the first bytes. */
export class WavEncoder extends PcmEncoder {
  readonly format = 'wav' as const;
  #headerSent = false;
  protected bytes(samples: Float32Array): Uint8Array {
    const pcm = pcm16ToBytes(floatToPcm16(samples));
    if (this.#headerSent) return pcm;
    this.#headerSent = true;
    const out = new Uint8Array(WAV_HEADER_BYTES + pcm.length);
    out.set(wavStreamHeader(this.sampleRate));
    out.set(pcm, WAV_HEADER_BYTES);
    return out;
  }
}

/** Headerless float32 little-endian, the protocol's `raw`. */
export class RawEncoder extends PcmEncoder {
  readonly format = 'raw' as const;
  protected bytes(samples: Float32Array): Uint8Array {
    return samples.length === 0 ? EMPTY : float32ToBytes(sanitizeSamples(samples));
  }
}

/** Headerless G.711 μ-law, one byte per sample. */
export class MulawEncoder extends PcmEncoder {
  readonly format = 'mulaw' as const;
  protected bytes(samples: Float32Array): Uint8Array {
    return samples.length === 0 ? EMPTY : mulawEncode(floatToPcm16(samples));
  }
}

/** Headerless 16-bit little-endian PCM: OpenAI's `audio/pcm`, ElevenLabs' `pcm_*`, Deepgram's `linear16`. */
export class Pcm16Encoder extends PcmEncoder {
  readonly format = 'pcm16' as const;
  protected bytes(samples: Float32Array): Uint8Array {
    return samples.length === 0 ? EMPTY : pcm16ToBytes(floatToPcm16(samples));
  }
}

/** Headerless G.711 A-law, one byte per sample (OpenAI's `audio/pcma`). */
export class AlawEncoder extends PcmEncoder {
  readonly format = 'alaw' as const;
  protected bytes(samples: Float32Array): Uint8Array {
    return samples.length === 0 ? EMPTY : alawEncode(floatToPcm16(samples));
  }
}

/**
 * One self-contained WAV file (a header with the exact sizes, then 16-bit PCM) for `pcm16` bytes:
 * for protocols that send every audio chunk as a file of its own (Hume EVI's `audio_output`).
 */
export function wavFile(pcm16: Uint8Array, sampleRate: number): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES + pcm16.length);
  out.set(wavStreamHeader(sampleRate));
  const view = new DataView(out.buffer);
  view.setUint32(4, 36 + pcm16.length, true);
  view.setUint32(40, pcm16.length, true);
  out.set(pcm16, WAV_HEADER_BYTES);
  return out;
}
