import { createOutputEncoder } from '@voicewire/server';
import { describe, expect, test } from 'vitest';
import { tone } from '../../../../testing/audio.ts';
import { concatBytes, randomPieces, streamingDecoder } from './realDecoders.ts';

/** Speech-like test signal: a tone whose pitch and level wander, with short pauses. */
function speechLike(seconds: number, sampleRate: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    const f = 180 + 60 * Math.sin(2 * Math.PI * 1.3 * t);
    phase += (2 * Math.PI * f) / sampleRate;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2.1 * t)) * 0.4;
    out[i] = envelope * (Math.sin(phase) + 0.3 * Math.sin(3 * phase) + 0.1 * Math.sin(7 * phase));
  }
  return out;
}

async function encodeWhole(format: 'mp3' | 'ogg' | 'flac', sampleRate: number, signal: Float32Array) {
  const encoder = await createOutputEncoder(format, sampleRate);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < signal.length; offset += 1234) {
    chunks.push(encoder.encode(signal.subarray(offset, offset + 1234)));
  }
  chunks.push(encoder.finish());
  return concatBytes(chunks);
}

interface Page {
  offset: number;
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  segments: number[];
  length: number;
}

/** Ogg pages as they sit in the byte stream, checked against RFC 3533 as they are read. */
function readPages(bytes: Uint8Array): Page[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pages: Page[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    expect(String.fromCharCode(...bytes.subarray(offset, offset + 4))).toBe('OggS');
    expect(bytes[offset + 4]).toBe(0); // version
    const count = bytes[offset + 26]!;
    const segments = [...bytes.subarray(offset + 27, offset + 27 + count)];
    const length = 27 + count + segments.reduce((a, b) => a + b, 0);
    pages.push({
      offset,
      flags: bytes[offset + 5]!,
      granule: view.getBigInt64(offset + 6, true),
      serial: view.getUint32(offset + 14, true),
      sequence: view.getUint32(offset + 18, true),
      segments,
      length,
    });
    offset += length;
  }
  expect(offset).toBe(bytes.length);
  return pages;
}

describe('ogg pages', () => {
  test.each([8000, 16000, 24000, 44100, 48000])(
    'at %i Hz: headers on their own pages, audio pages of 100 ms or less, numbered and granule-stamped',
    async (rate) => {
      const signal = speechLike(3, rate);
      const bytes = await encodeWhole('ogg', rate, signal);
      const pages = readPages(bytes);
      // Identification header alone on the BOS page; comment and setup each on a page of their
      // own; all three with granule 0.
      expect(pages[0]!.flags).toBe(0x02);
      for (const page of pages.slice(0, 3)) {
        expect(page.granule).toBe(0n);
        expect(page.segments.filter((s) => s < 255)).toHaveLength(1);
      }
      expect(pages.slice(1).every((p) => (p.flags & 0x02) === 0)).toBe(true);
      expect(pages.at(-1)!.flags & 0x04).toBe(0x04); // EOS on the last page only
      expect(pages.slice(0, -1).every((p) => (p.flags & 0x04) === 0)).toBe(true);
      expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
      expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));

      const audio = pages.slice(3);
      let previous = 0n;
      const durationsMs: number[] = [];
      for (const page of audio) {
        // Every page ends a packet (no packet spans pages), so every page has a granule.
        expect(page.segments.at(-1)!).toBeLessThan(255);
        expect(page.granule).toBeGreaterThanOrEqual(previous);
        durationsMs.push((Number(page.granule - previous) / rate) * 1000);
        previous = page.granule;
      }
      // The last page's granule is the exact length: Vorbis trims the final block's padding.
      expect(Number(pages.at(-1)!.granule)).toBe(signal.length);
      const longest = Math.max(...durationsMs);
      // One Vorbis packet at 8 kHz can be 2048/2 = 1024 samples (128 ms); otherwise ≤ 100 ms.
      const packetMs = (1024 / rate) * 1000;
      expect(longest).toBeLessThanOrEqual(Math.max(100, packetMs) + 0.01);
      const kbps = (bytes.length * 8) / (signal.length / rate) / 1000;
      console.log(
        `ogg ${rate} Hz: ${audio.length} audio pages, longest ${longest.toFixed(1)} ms, mean ${(
          durationsMs.reduce((a, b) => a + b, 0) / durationsMs.length
        ).toFixed(1)} ms, ${kbps.toFixed(1)} kbps`,
      );
    },
  );
});

describe('flac stream', () => {
  test.each([8000, 16000, 22050, 24000, 44100, 48000, 96000])(
    'at %i Hz: fLaC + STREAMINFO (last block, no padding), fixed block size, frames decode',
    async (rate) => {
      const signal = tone(440, 1.3, rate, 0.25);
      const bytes = await encodeWhole('flac', rate, signal);
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('fLaC');
      // Metadata block header: last-block flag set, type 0 (STREAMINFO), length 34 — so no
      // PADDING (type 1) or any other block follows.
      expect(bytes[4]).toBe(0x80);
      expect((bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!).toBe(34);
      const info = bytes.subarray(8, 42);
      const blockSize = (info[0]! << 8) | info[1]!;
      expect((info[2]! << 8) | info[3]!).toBe(blockSize);
      expect((info[10]! << 12) | (info[11]! << 4) | (info[12]! >> 4)).toBe(rate);
      expect((info[12]! >> 1) & 0x07).toBe(0); // one channel
      expect((((info[12]! & 1) << 4) | (info[13]! >> 4)) + 1).toBe(16); // bits per sample
      // Total samples unknown (0) and MD5 not computed (zeros): a live stream.
      expect(info[13]! & 0x0f).toBe(0);
      expect([...info.subarray(14, 18)]).toEqual([0, 0, 0, 0]);
      expect([...info.subarray(18, 34)].every((b) => b === 0)).toBe(true);
      // Frames are at most ~50 ms so that a player starts early.
      expect(blockSize / rate).toBeLessThanOrEqual(0.05);
      expect(bytes[42]).toBe(0xff);
      expect(bytes[43]! & 0xfe).toBe(0xf8); // frame sync, fixed-block-size strategy

      const decoder = await streamingDecoder('flac');
      const first = await decoder.push(bytes);
      const rest = await decoder.end();
      decoder.free();
      expect(first.sampleRate || rest.sampleRate).toBe(rate);
      expect(first.samples.length + rest.samples.length).toBe(signal.length);
    },
  );

  test('a stream shorter than one block and an empty stream are still valid', async () => {
    for (const length of [0, 1, 5, 100]) {
      const encoder = await createOutputEncoder('flac', 16000);
      const bytes = concatBytes([encoder.encode(tone(440, length / 16000, 16000, 0.3)), encoder.finish()]);
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('fLaC');
      const decoder = await streamingDecoder('flac');
      const a = await decoder.push(bytes);
      const b = await decoder.end();
      decoder.free();
      expect(a.samples.length + b.samples.length).toBe(length);
    }
  });
});

describe('streaming decoders start before the stream ends', () => {
  test.each(['mp3', 'ogg', 'flac'] as const)(
    '%s fed in random-sized pieces: first audio within the first 10% of the audio bytes, all of it in the end',
    async (format) => {
      const rate = 24000;
      const signal = speechLike(4, rate);
      const bytes = await encodeWhole(format, rate, signal);
      const decoder = await streamingDecoder(format);
      let fed = 0;
      let firstAudioAt = -1;
      let decodedSamples = 0;
      for (const piece of randomPieces(bytes, 700, 11)) {
        fed += piece.length;
        const out = await decoder.push(piece);
        if (out.samples.length > 0 && firstAudioAt < 0) firstAudioAt = fed;
        decodedSamples += out.samples.length;
      }
      decodedSamples += (await decoder.end()).samples.length;
      decoder.free();
      // Headers come first whatever happens (Vorbis's setup header alone is ~3.4 KB); what
      // matters is how much of the audio itself a player must hold before it can start.
      const headerBytes =
        format === 'ogg'
          ? readPages(bytes)
              .slice(0, 3)
              .reduce((n, p) => n + p.length, 0)
          : 0;
      const fraction = (firstAudioAt - headerBytes) / (bytes.length - headerBytes);
      console.log(
        `${format}: first audio after ${firstAudioAt} of ${bytes.length} bytes (headers ${headerBytes}; ` +
          `${(fraction * 100).toFixed(1)}% of the audio bytes)`,
      );
      expect(firstAudioAt).toBeGreaterThan(0);
      expect(fraction).toBeLessThan(0.1);
      expect(decodedSamples).toBeGreaterThanOrEqual(signal.length);
    },
  );
});
