import { float32ToBytes, floatToPcm16, mulawEncode, pcm16ToBytes } from '@voicewire/core';
import { describe, expect, it } from 'vitest';
import { concat, encodeWav16, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { encodeWithSox } from '../../../../testing/tools.ts';
import { createMulawDecoder } from '../../src/audio/decoders/createMulawDecoder.ts';
import { createRawFloat32Decoder } from '../../src/audio/decoders/createRawFloat32Decoder.ts';
import { createWasmDecoder } from '../../src/audio/decoders/createWasmDecoder.ts';
import { createWavDecoder } from '../../src/audio/decoders/createWavDecoder.ts';
import type { StreamDecoder } from '../../src/audio/decoders/types.ts';

const RATE = 24_000;
const signal = tone(440, 0.25, RATE, 0.5);

/** Every way of cutting `bytes` we care about: one piece, single bytes, odd sizes, random sizes. */
function cuttings(bytes: Uint8Array): Uint8Array[][] {
  const cut = (sizes: () => number) => {
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      const size = sizes();
      chunks.push(bytes.slice(offset, offset + size));
      offset += size;
    }
    return chunks;
  };
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return 1 + (seed % 997);
  };
  return [[bytes], cut(() => 1), cut(() => 3), cut(() => 7), cut(() => 1001), cut(random)];
}

async function decodeAll(decoder: StreamDecoder, chunks: Uint8Array[]) {
  const parts: Float32Array[] = [];
  let sampleRate = 0;
  for (const chunk of chunks) {
    const out = await decoder.decode(chunk);
    parts.push(out.samples);
    sampleRate = out.sampleRate;
  }
  parts.push((await decoder.flush()).samples);
  return { samples: concat(...parts), sampleRate };
}

describe('raw float32 decoder', () => {
  it('gives back the exact samples however the stream is cut (partial samples carried)', async () => {
    const bytes = float32ToBytes(signal);
    for (const chunks of cuttings(bytes)) {
      const { samples, sampleRate } = await decodeAll(createRawFloat32Decoder(RATE), chunks);
      expect(sampleRate).toBe(RATE);
      expect(samples).toEqual(signal);
    }
  });

  it('reset() drops a partial sample of the old stream', () => {
    const decoder = createRawFloat32Decoder(RATE);
    decoder.decode(new Uint8Array([1, 2, 3]));
    decoder.reset();
    expect(Array.from(decoder.decode(float32ToBytes(new Float32Array([0.5]))).samples)).toEqual([0.5]);
  });
});

describe('wav decoder', () => {
  const pcm = floatToPcm16(signal);
  const expected = Float32Array.from(pcm, (s) => s / 32768);

  it('one RIFF header, then data cut anywhere (header split too, odd byte counts carried)', async () => {
    const file = encodeWav16(signal, RATE);
    for (const chunks of cuttings(file)) {
      const { samples, sampleRate } = await decodeAll(createWavDecoder(16_000), chunks);
      expect(sampleRate).toBe(RATE);
      expect(samples).toEqual(expected);
    }
  });

  it('a complete little WAV file per chunk', async () => {
    const chunks = [];
    for (let i = 0; i < signal.length; i += 999) chunks.push(encodeWav16(signal.subarray(i, i + 999), RATE));
    const { samples } = await decodeAll(createWavDecoder(RATE), chunks);
    expect(samples).toEqual(expected);
  });

  it('headerless 16-bit PCM at the session rate', async () => {
    for (const chunks of cuttings(pcm16ToBytes(pcm))) {
      const { samples, sampleRate } = await decodeAll(createWavDecoder(RATE), chunks);
      expect(sampleRate).toBe(RATE);
      expect(samples).toEqual(expected);
    }
  });

  it('stereo files are mixed down and extra chunks before data are skipped', async () => {
    const frames = 100;
    const body = new Uint8Array(frames * 4);
    const view = new DataView(body.buffer);
    for (let i = 0; i < frames; i++) {
      view.setInt16(i * 4, 1000, true);
      view.setInt16(i * 4 + 2, 3000, true);
    }
    const header = new Uint8Array(44 + 12);
    const h = new DataView(header.buffer);
    const ascii = (o: number, t: string) => {
      for (let i = 0; i < t.length; i++) h.setUint8(o + i, t.charCodeAt(i));
    };
    ascii(0, 'RIFF');
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    h.setUint32(16, 16, true);
    h.setUint16(20, 1, true);
    h.setUint16(22, 2, true);
    h.setUint32(24, 22_050, true);
    h.setUint16(34, 16, true);
    ascii(36, 'LIST');
    h.setUint32(40, 3, true); // odd size: one pad byte follows
    ascii(48, 'data');
    const file = concatBytes(header, body);
    for (const chunks of cuttings(file)) {
      const { samples, sampleRate } = await decodeAll(createWavDecoder(RATE), chunks);
      expect(sampleRate).toBe(22_050);
      expect(samples.length).toBe(frames);
      expect(samples.every((s) => s === 2000 / 32768)).toBe(true);
    }
  });
});

describe('mu-law decoder', () => {
  it('decodes G.711 bytes however they are cut', async () => {
    const bytes = mulawEncode(floatToPcm16(signal));
    for (const chunks of cuttings(bytes)) {
      const { samples } = await decodeAll(createMulawDecoder(8000), chunks);
      expect(samples.length).toBe(signal.length);
      // μ-law keeps about 38 dB of SNR on a loud tone.
      expect(Math.abs(toneAmplitude(samples, 440, RATE) - 0.5)).toBeLessThan(0.01);
    }
  });
});

// The local agent's own encoders against these decoders: the core-browser player tests.
describe('WASM stream decoders (mp3 / ogg / flac encoded by sox, an independent encoder)', () => {
  for (const format of ['mp3', 'ogg', 'flac'] as const) {
    it(`${format}: the same audio whether fed whole or in tiny and random pieces`, async () => {
      const bytes = encodeWithSox(signal, RATE, format);
      const whole = await decodeAll(createWasmDecoder(format, RATE, { worker: false }), [bytes]);
      expect(whole.sampleRate).toBe(RATE);
      expect(Math.abs(toneAmplitude(whole.samples.subarray(2400, 4800), 440, RATE) - 0.5)).toBeLessThan(0.03);
      for (const chunks of cuttings(bytes).slice(4)) {
        const pieces = await decodeAll(createWasmDecoder(format, RATE, { worker: false }), chunks);
        expect(pieces.samples.length).toBe(whole.samples.length);
        expect(pieces.samples).toEqual(whole.samples);
      }
    }, 30_000);
  }
});

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
