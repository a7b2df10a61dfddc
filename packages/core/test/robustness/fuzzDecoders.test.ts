import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InternalErrorWatch, watchInternalErrors } from '../../../../testing/internalErrors.ts';
import { createMulawDecoder } from '../../src/audio/decoders/createMulawDecoder.ts';
import { createRawFloat32Decoder } from '../../src/audio/decoders/createRawFloat32Decoder.ts';
import { createWasmDecoder } from '../../src/audio/decoders/createWasmDecoder.ts';
import { createWavDecoder } from '../../src/audio/decoders/createWavDecoder.ts';
import type { DecodedAudio, StreamDecoder } from '../../src/audio/decoders/types.ts';
import { createRandom } from './serverFrames.ts';

/**
 * The player's real decoders fed what a broken server could send as `audioStream` data once it
 * is valid base64: random bytes, chunks cut mid-sample, truncated and absurd WAV headers. They
 * must not throw anything but an Error the player can turn into a `decode` error, must never
 * produce NaN or infinite samples (one NaN poisons every filter and resampler after it), and
 * must decode a clean stream correctly after `reset()`.
 */

const CHUNKS = 1500;

function wavHeader(fields: {
  codec: number;
  channels: number;
  rate: number;
  bits: number;
  dataBytes: number;
}): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  header.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  view.setUint32(4, 36 + fields.dataBytes, true);
  header.set([0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20], 8); // WAVEfmt
  view.setUint32(16, 16, true);
  view.setUint16(20, fields.codec, true);
  view.setUint16(22, fields.channels, true);
  view.setUint32(24, fields.rate, true);
  view.setUint32(28, (fields.rate * fields.channels * fields.bits) / 8, true);
  view.setUint16(32, (fields.channels * fields.bits) / 8, true);
  view.setUint16(34, fields.bits, true);
  header.set([0x64, 0x61, 0x74, 0x61], 36); // data
  view.setUint32(40, fields.dataBytes, true);
  return header;
}

function garbageChunk(random: ReturnType<typeof createRandom>): Uint8Array {
  const bytes = new Uint8Array(random.pick([0, 1, 2, 3, 5, 7, 63, 321, 1001, 4096]));
  for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(256);
  switch (random.int(6)) {
    case 0:
      return wavHeader({
        codec: random.pick([0, 1, 3, 99, 0xffff]),
        channels: random.pick([0, 1, 2, 255, 0xffff]),
        rate: random.pick([0, 1, 8000, 44100, 0xffffffff]),
        bits: random.pick([0, 1, 8, 12, 16, 24, 32, 64, 0xffff]),
        dataBytes: random.pick([0, 3, 0xffffffff]),
      }).slice(0, random.pick([4, 12, 20, 36, 44]));
    case 1:
      if (bytes.length >= 4) bytes.set([0x52, 0x49, 0x46, 0x46]); // "RIFF" then noise
      return bytes;
    case 2:
      if (bytes.length >= 4) bytes.set([0x49, 0x44, 0x33, 0x04]); // an ID3 tag start
      return bytes;
    case 3:
      if (bytes.length >= 4) bytes.set([0x4f, 0x67, 0x67, 0x53]); // "OggS"
      return bytes;
    case 4:
      if (bytes.length >= 4) bytes.set([0x66, 0x4c, 0x61, 0x43]); // "fLaC"
      return bytes;
    default:
      return bytes;
  }
}

async function feed(decoder: StreamDecoder, seed: number, chunks: number) {
  const random = createRandom(seed);
  let samples = 0;
  let errors = 0;
  for (let i = 0; i < chunks; i++) {
    let out: DecodedAudio;
    try {
      out = await decoder.decode(garbageChunk(random));
    } catch (error) {
      // Allowed: the player catches it and reports a non-fatal `decode` error.
      expect(error).toBeInstanceOf(Error);
      errors++;
      continue;
    }
    expect(out.samples).toBeInstanceOf(Float32Array);
    for (const sample of out.samples) {
      if (!Number.isFinite(sample))
        throw new Error(`chunk ${i} (seed ${seed}) decoded to a non-finite sample: ${sample}`);
    }
    samples += out.samples.length;
  }
  return { samples, errors };
}

describe('decoders under garbage audio', () => {
  // Garbage is answered with an Error or finite samples, never by a decoder logging a failure.
  let watch: InternalErrorWatch | undefined;
  beforeEach(() => {
    // mpg123-decoder itself console.errors every stream error it also returns (MPEGDecoder.js,
    // unconditionally); that line is the dependency's, for the garbage, not an internal error.
    watch = watchInternalErrors({ allow: [/^console\.error: mpg123-decoder: -?\d+ MPG123_ERR\w*$/] });
  });
  afterEach(() => {
    watch?.expectNone();
  });

  it('mulaw: any bytes are samples; finite; a clean stream after reset decodes exactly', async () => {
    const decoder = createMulawDecoder(16000);
    const { samples } = await feed(decoder, 11, CHUNKS);
    expect(samples).toBeGreaterThan(0);
    decoder.reset();
    const out = decoder.decode(new Uint8Array([0xff, 0x7f, 0x00, 0x80]));
    expect(Array.from(out.samples).map((s) => Math.round(s * 32768))).toEqual([0, 0, -32124, 32124]);
  });

  it('raw float32: chunks cut at any byte reassemble into exactly the samples sent', () => {
    const random = createRandom(12);
    const decoder = createRawFloat32Decoder(16000);
    const sent = Float32Array.from({ length: 4000 }, () => random.next() * 2 - 1);
    const bytes = new Uint8Array(sent.buffer);
    const got: number[] = [];
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, at + random.pick([0, 1, 2, 3, 5, 7, 401, 1023]));
      got.push(...decoder.decode(bytes.slice(at, end)).samples);
      at = end;
    }
    expect(got).toEqual(Array.from(sent));
  });

  // A broken server's float32 bytes include NaN and ±Inf bit patterns: one NaN would poison the
  // resampler and the worklet for the rest of the call.
  it('raw float32: NaN/Inf bit patterns never reach the output as non-finite', async () => {
    const decoder = createRawFloat32Decoder(16000);
    await feed(decoder, 12, CHUNKS);
    // Explicit NaN, +Inf, -Inf, a huge value, cut across two chunks.
    const special = new Float32Array([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      3e38,
      0.5,
    ]);
    const bytes = new Uint8Array(special.buffer);
    decoder.reset();
    const a = decoder.decode(bytes.slice(0, 7));
    const b = decoder.decode(bytes.slice(7));
    const all = [...a.samples, ...b.samples];
    expect(all).toHaveLength(5);
    expect(all.every(Number.isFinite)).toBe(true);
    expect(all.at(-1)).toBe(0.5);
  });

  it('wav: truncated and absurd headers (0 channels, 0 bits, huge sizes) are survived; a clean file decodes after reset', async () => {
    const decoder = createWavDecoder(16000);
    await feed(decoder, 13, CHUNKS);
    decoder.reset();
    const pcm = new Int16Array([0, 16384, -16384, 32767]);
    const file = new Uint8Array(44 + pcm.byteLength);
    file.set(wavHeader({ codec: 1, channels: 1, rate: 16000, bits: 16, dataBytes: pcm.byteLength }));
    file.set(new Uint8Array(pcm.buffer), 44);
    // Cut mid-header and mid-sample.
    const first = decoder.decode(file.slice(0, 30));
    const second = decoder.decode(file.slice(30, 47));
    const third = decoder.decode(file.slice(47));
    const all = [...first.samples, ...second.samples, ...third.samples];
    expect(all.map((s) => Math.round(s * 32768))).toEqual([0, 16384, -16384, 32767]);
  });

  for (const format of ['mp3', 'ogg', 'flac'] as const) {
    it(`${format} (WASM): garbage gives finite samples or an Error, never a hang or a crash`, async () => {
      const decoder = createWasmDecoder(format, 16000, { worker: false });
      await decoder.ready;
      await feed(decoder, 14, 300);
      await decoder.reset();
      decoder.close();
    }, 60_000);
  }
});
