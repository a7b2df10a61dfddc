import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatToPcm16, mulawEncode, pcm16ToBytes } from '@voicewire/core';
import { canDecodeInput, createInputDecoder, InputDecodeError } from '@voicewire/server';
import { describe, expect, test } from 'vitest';
import { encodeWav16, toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { requireTool } from '../../../../testing/tools.ts';
import { writeOggPage } from '../../src/audio/ogg/oggPage.ts';
import { concatFloat, fitTones, randomPieces } from './realDecoders.ts';

/** How many samples differ (toEqual on long typed arrays is slow and its diff unreadable). */
function mismatches(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Math.abs(actual.length - expected.length) + expected.length;
  let count = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) count++;
  return count;
}

/** Float samples as they come back from 16-bit PCM (what a lossless round trip must return). */
function quantised(samples: Float32Array): Float32Array {
  const pcm = floatToPcm16(samples);
  return Float32Array.from(pcm, (s) => s / 32768);
}

describe('canDecodeInput', () => {
  test('linear16, mulaw and media-container decode; the other headerless codecs do not', () => {
    expect(canDecodeInput('linear16')).toBe(true);
    expect(canDecodeInput('mulaw')).toBe(true);
    expect(canDecodeInput('media-container')).toBe(true);
    for (const encoding of ['flac', 'amr-nb', 'amr-wb', 'opus', 'speex', 'g729'] as const) {
      expect(canDecodeInput(encoding)).toBe(false);
      expect(() => createInputDecoder(encoding, 16000)).toThrow(InputDecodeError);
      expect(() => createInputDecoder(encoding, 16000)).toThrow(/cannot decode inputEncoding "/);
    }
  });

  test('headerless encodings need a sample rate', () => {
    expect(() => createInputDecoder('linear16')).toThrow(/needs inputSampleRate/);
    expect(() => createInputDecoder('mulaw')).toThrow(/needs inputSampleRate/);
  });
});

describe('linear16', () => {
  test.each([8000, 16000, 44100, 48000])('round trip at %i Hz, any even chunking', (rate) => {
    const signal = tone(1000, 0.5, rate, 0.5);
    const bytes = pcm16ToBytes(floatToPcm16(signal));
    const decoder = createInputDecoder('linear16', rate);
    const out: Float32Array[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      const size = 2 * (1 + ((offset * 7) % 331)); // even sizes that vary
      const decoded = decoder.decode(bytes.subarray(offset, offset + size));
      expect(decoded.sampleRate).toBe(rate);
      out.push(decoded.samples);
      offset += size;
    }
    expect(mismatches(concatFloat(out), quantised(signal))).toBe(0);
  });

  test('an odd number of bytes is an InputDecodeError, and the decoder carries on', () => {
    const decoder = createInputDecoder('linear16', 16000);
    const bytes = pcm16ToBytes(floatToPcm16(tone(500, 0.01, 16000, 0.5)));
    let error: unknown;
    try {
      decoder.decode(bytes.subarray(0, 5));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputDecodeError);
    expect((error as Error).message).toMatch(/linear16.*5 bytes/);
    // The next well-formed chunk decodes from its own start, not shifted by a stray byte.
    expect(mismatches(decoder.decode(bytes).samples, quantised(tone(500, 0.01, 16000, 0.5)))).toBe(0);
  });

  test('an empty payload (a muted client) decodes to no samples', () => {
    expect(createInputDecoder('linear16', 16000).decode(new Uint8Array(0)).samples).toHaveLength(0);
  });
});

describe('mulaw', () => {
  test.each([8000, 16000, 24000])(
    'round trip at %i Hz keeps the tone within 1 dB, nothing else above -30 dB',
    (rate) => {
      const signal = tone(1000, 0.5, rate, 0.5);
      const bytes = mulawEncode(floatToPcm16(signal));
      const decoder = createInputDecoder('mulaw', rate);
      const out: Float32Array[] = [];
      for (const piece of randomPieces(bytes, 333, rate)) out.push(decoder.decode(piece).samples);
      const decoded = concatFloat(out);
      expect(decoded).toHaveLength(signal.length);
      expect(Math.abs(toDb(toneAmplitude(decoded, 1000, rate)) - toDb(0.5))).toBeLessThan(1);
      expect(fitTones(decoded, [1000], rate).residualDb).toBeLessThan(-30);
    },
  );
});

/** A WAV file with any PCM layout (the test's own writer; `encodeWav16` covers the common one). */
function wavFile(options: {
  samples: Float32Array[];
  sampleRate: number;
  bits: 8 | 16 | 24 | 32;
  float?: boolean;
  dataSize?: number;
  extraChunk?: boolean;
}): Uint8Array {
  const { samples, sampleRate, bits } = options;
  const channels = samples.length;
  const frames = samples[0]!.length;
  const blockAlign = channels * (bits / 8);
  const extra = options.extraChunk ? 8 + 6 : 0;
  const bytes = new Uint8Array(44 + extra + frames * blockAlign);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, options.float ? 3 : 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bits, true);
  let offset = 36;
  if (options.extraChunk) {
    ascii(offset, 'LIST');
    view.setUint32(offset + 4, 6, true);
    offset += 14;
  }
  ascii(offset, 'data');
  view.setUint32(offset + 4, options.dataSize ?? frames * blockAlign, true);
  offset += 8;
  for (let i = 0; i < frames; i++) {
    for (let ch = 0; ch < channels; ch++) {
      const s = samples[ch]![i]!;
      if (options.float) view.setFloat32(offset, s, true);
      else if (bits === 8) view.setUint8(offset, Math.round(s * 127) + 128);
      else if (bits === 16) view.setInt16(offset, Math.round(s * 32767), true);
      else if (bits === 24) {
        const v = Math.round(s * 8388607);
        view.setUint8(offset, v & 0xff);
        view.setUint8(offset + 1, (v >> 8) & 0xff);
        view.setInt8(offset + 2, v >> 16);
      } else view.setInt32(offset, Math.round(s * 2147483647), true);
      offset += bits / 8;
    }
  }
  return bytes;
}

describe('media-container: WAV', () => {
  test('a 16-bit mono WAV split anywhere, even inside its header, decodes exactly', () => {
    const rate = 16000;
    const signal = tone(1000, 0.5, rate, 0.5);
    const file = encodeWav16(signal, rate);
    const decoder = createInputDecoder('media-container');
    const out: Float32Array[] = [];
    // Pieces of 1..97 bytes: the header arrives in several pieces, samples are cut mid-way.
    for (const piece of randomPieces(file, 97, 3)) {
      const decoded = decoder.decode(piece);
      if (decoded.samples.length > 0) expect(decoded.sampleRate).toBe(rate);
      out.push(decoded.samples);
    }
    expect(mismatches(concatFloat(out), quantised(signal))).toBe(0);
  });

  test('chunks after the header continue the same stream; a new RIFF chunk starts a new one', () => {
    const decoder = createInputDecoder('media-container');
    const first = encodeWav16(tone(1000, 0.1, 16000, 0.5), 16000);
    expect(decoder.decode(first.subarray(0, 1001)).samples).toHaveLength((1001 - 44 - 1) / 2);
    // The odd byte left over is joined with the next chunk.
    expect(decoder.decode(first.subarray(1001)).samples).toHaveLength((first.length - 1001 + 1) / 2);
    const second = encodeWav16(tone(440, 0.1, 8000, 0.5), 8000);
    const decoded = decoder.decode(second);
    expect(decoded.sampleRate).toBe(8000);
    expect(decoded.samples).toHaveLength(800);
  });

  test.each([
    { bits: 8, float: false, tolerance: 1 / 64 },
    { bits: 16, float: false, tolerance: 1 / 16384 },
    { bits: 24, float: false, tolerance: 1e-6 },
    { bits: 32, float: false, tolerance: 1e-6 },
    { bits: 32, float: true, tolerance: 0 },
  ] as const)(
    '$bits-bit (float: $float) stereo with an extra chunk mixes down to mono',
    ({ bits, float, tolerance }) => {
      const rate = 22050;
      const left = tone(1000, 0.2, rate, 0.5);
      const right = tone(1000, 0.2, rate, 0.25);
      const file = wavFile({ samples: [left, right], sampleRate: rate, bits, float, extraChunk: true });
      const decoder = createInputDecoder('media-container');
      const out: Float32Array[] = [];
      for (const piece of randomPieces(file, 500, bits)) out.push(decoder.decode(piece).samples);
      const decoded = concatFloat(out);
      expect(decoded).toHaveLength(left.length);
      let worst = 0;
      for (let i = 0; i < decoded.length; i++)
        worst = Math.max(worst, Math.abs(decoded[i]! - (left[i]! + right[i]!) / 2));
      expect(worst).toBeLessThanOrEqual(tolerance + 1e-7);
    },
  );

  test('a float WAV with NaN, infinities and values past ±1 decodes to finite, clipped samples', () => {
    const samples = Float32Array.from([
      0.25,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -7,
      Number.NEGATIVE_INFINITY,
      -0.5,
    ]);
    const file = wavFile({ samples: [samples], sampleRate: 16000, bits: 32, float: true });
    const decoded = createInputDecoder('media-container').decode(file).samples;
    expect([...decoded]).toEqual([0.25, 0, 1, -1, -1, -0.5]);
  });

  test('bytes past a known data size (trailing chunks) are not played as audio', () => {
    const samples = tone(1000, 0.05, 8000, 0.5);
    const file = wavFile({ samples: [samples], sampleRate: 8000, bits: 16 });
    const withTrailer = new Uint8Array(file.length + 20);
    withTrailer.set(file);
    withTrailer.set([0x4c, 0x49, 0x53, 0x54, 12, 0, 0, 0], file.length);
    const decoded = createInputDecoder('media-container').decode(withTrailer);
    expect(decoded.samples).toHaveLength(samples.length);
  });

  test('unsupported or unknown containers are InputDecodeErrors that say what to send', () => {
    const mp4 = new Uint8Array([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]); // ....ftypisom
    expect(() => createInputDecoder('media-container').decode(mp4)).toThrow(InputDecodeError);
    expect(() => createInputDecoder('media-container').decode(mp4)).toThrow(/WAV \(RIFF\), WebM or Ogg/);
    const adpcm = wavFile({ samples: [tone(1000, 0.01, 8000)], sampleRate: 8000, bits: 16 });
    new DataView(adpcm.buffer).setUint16(20, 2, true); // WAVE_FORMAT_ADPCM
    expect(() => createInputDecoder('media-container').decode(adpcm)).toThrow(/format tag 2/);
  });
});

describe('media-container: WebM Opus (Chromium MediaRecorder)', () => {
  // Recorded by real headless Chromium (fixtures/recordMediaRecorderFixtures.ts): the chunks a
  // browser running the API page's MediaRecorder example (docs/protocol.md) sends, one per audioIn.
  const fixture = JSON.parse(
    readFileSync(new URL('./fixtures/chromium-mediarecorder-webm-opus-1khz.json', import.meta.url), 'utf8'),
  ) as { chunksBase64: string[] };
  const chunks = fixture.chunksBase64.map((c) => new Uint8Array(Buffer.from(c, 'base64')));

  /**
   * Empty payloads (what a muted client sends) until the decoder has produced something: its
   * Opus WASM instantiates asynchronously, which a live socket's gaps between messages cover.
   */
  async function untilAudio(decoder: ReturnType<typeof createInputDecoder>, out: Float32Array[]) {
    for (let waited = 0; waited < 10_000; waited += 10) {
      const samples = decoder.decode(new Uint8Array(0)).samples;
      out.push(samples);
      if (samples.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  test('the recorded chunks decode to the 1 kHz tone at 48 kHz as they arrive', async () => {
    const decoder = createInputDecoder('media-container');
    const out: Float32Array[] = [decoder.decode(chunks[0]!).samples];
    await untilAudio(decoder, out);
    expect(concatFloat(out).length).toBeGreaterThan(0);
    // From then on every 100 ms chunk decodes at once: nothing waits for the end of the stream.
    for (const chunk of chunks.slice(1)) {
      const decoded = decoder.decode(chunk);
      expect(decoded.sampleRate).toBe(48000);
      expect(decoded.samples.length).toBeGreaterThan(0);
      out.push(decoded.samples);
    }
    const decoded = concatFloat(out);
    expect(decoded.length).toBeGreaterThan(1.2 * 48000);
    const steady = decoded.subarray(12000, 48000);
    expect(Math.abs(toDb(toneAmplitude(steady, 1000, 48000)) - toDb(0.5))).toBeLessThan(1.5);
    expect(fitTones(steady, [1000], 48000).residualDb).toBeLessThan(-25);
  });

  test('the same stream re-cut into random pieces decodes the same', async () => {
    const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    const pieces = randomPieces(whole, 300, 9);
    const decoder = createInputDecoder('media-container');
    const out: Float32Array[] = [];
    // The header and the first block, then wait for the decoder to come up.
    let fed = 0;
    while (fed < pieces.length && pieces.slice(0, fed).reduce((n, p) => n + p.length, 0) < 1500) {
      out.push(decoder.decode(pieces[fed++]!).samples);
    }
    await untilAudio(decoder, out);
    for (const piece of pieces.slice(fed)) out.push(decoder.decode(piece).samples);
    const decoded = concatFloat(out);
    expect(decoded.length).toBeGreaterThan(1.2 * 48000);
    expect(
      Math.abs(toDb(toneAmplitude(decoded.subarray(12000, 48000), 1000, 48000)) - toDb(0.5)),
    ).toBeLessThan(1.5);
  });

  test('a WebM stream with a codec other than Opus is refused with a clear error', () => {
    // The recorded header with its CodecID "A_OPUS" changed to "A_VORB".
    const header = chunks[0]!.slice();
    const at = Buffer.from(header).indexOf('A_OPUS');
    header.set(Buffer.from('A_VORB'), at);
    expect(() => createInputDecoder('media-container').decode(header)).toThrow(
      /codec A_VORB is not supported/,
    );
  });
});

describe('media-container: Ogg Opus built from the Chromium recording', () => {
  /** The OpusHead and Opus packets of the WebM fixture, by a minimal walk of its elements. */
  function opusFromWebm(bytes: Uint8Array): { head: Uint8Array; packets: Uint8Array[] } {
    const containers = new Set([0x18538067, 0x1f43b675, 0x1654ae6b, 0xae]);
    let head: Uint8Array | undefined;
    const packets: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const first = bytes[offset]!;
      const idLength = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : 4;
      let id = 0;
      for (let i = 0; i < idLength; i++) id = id * 256 + bytes[offset + i]!;
      const sizeByte = bytes[offset + idLength]!;
      let sizeLength = 1;
      while (!(sizeByte & (0x80 >> (sizeLength - 1)))) sizeLength++;
      let size = sizeByte & (0xff >> sizeLength);
      for (let i = 1; i < sizeLength; i++) size = size * 256 + bytes[offset + idLength + i]!;
      const body = offset + idLength + sizeLength;
      if (containers.has(id)) {
        offset = body;
        continue;
      }
      if (id === 0x63a2) head = bytes.slice(body, body + size);
      if (id === 0xa3) packets.push(bytes.slice(body + 4, body + size)); // track 0x81, timecode, flags
      offset = body + size;
    }
    return { head: head!, packets };
  }

  test('an Ogg Opus stream (header pages, then 1–3 packets a page) decodes to the tone', async () => {
    const fixture = JSON.parse(
      readFileSync(new URL('./fixtures/chromium-mediarecorder-webm-opus-1khz.json', import.meta.url), 'utf8'),
    ) as { chunksBase64: string[] };
    const webm = new Uint8Array(Buffer.concat(fixture.chunksBase64.map((c) => Buffer.from(c, 'base64'))));
    const { head, packets } = opusFromWebm(webm);
    const tags = new Uint8Array([...Buffer.from('OpusTags'), 4, 0, 0, 0, ...Buffer.from('test'), 0, 0, 0, 0]);
    const lacing = (length: number) => [...new Array(Math.floor(length / 255)).fill(255), length % 255];
    const pages: Uint8Array[] = [];
    const page = (data: Uint8Array[], flags: number, granule: bigint) =>
      pages.push(
        writeOggPage({
          flags,
          granulePosition: granule,
          serialNumber: 0x1234,
          sequenceNumber: pages.length,
          segments: Uint8Array.from(data.flatMap((d) => lacing(d.length))),
          body: new Uint8Array(Buffer.concat(data)),
        }),
      );
    page([head], 0x02, 0n);
    page([tags], 0, 0n);
    let granule = 0n;
    for (let i = 0; i < packets.length; i += 2) {
      const group = packets.slice(i, i + 2);
      granule += BigInt(group.length * 2880); // Chrome's packets are 60 ms (2880 samples at 48 kHz)
      page(group, i + 2 >= packets.length ? 0x04 : 0, granule);
    }
    const decoder = createInputDecoder('media-container');
    const out: Float32Array[] = [decoder.decode(pages[0]!).samples];
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const [index, bytes] of pages.slice(1).entries()) {
      out.push(decoder.decode(bytes).samples);
      // Let the decoder's WASM come up after the header pages, as a live socket would.
      if (index === 0) {
        for (let waited = 0; waited < 10_000; waited += 10) {
          const samples = decoder.decode(new Uint8Array(0)).samples;
          out.push(samples);
          if (concatFloat(out).length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }
    out.push(decoder.decode(new Uint8Array(0)).samples);
    const decoded = concatFloat(out);
    expect(decoded.length).toBeGreaterThan(1.2 * 48000);
    const steady = decoded.subarray(12000, 48000);
    expect(Math.abs(toDb(toneAmplitude(steady, 1000, 48000)) - toDb(0.5))).toBeLessThan(1.5);
    expect(fitTones(steady, [1000], 48000).residualDb).toBeLessThan(-25);
  });
});

describe('media-container: Ogg Opus', () => {
  // opusenc (opus-tools) makes the test file; the decoder itself is our Ogg reader and the
  // opus-decoder WASM package, and needs nothing else.
  test('an Ogg Opus stream in pieces decodes to the tone at 48 kHz', async () => {
    requireTool('opusenc', ['--version'], 'opus-tools');
    const dir = mkdtempSync(join(tmpdir(), 'voicewire-opus-'));
    let file: Uint8Array;
    try {
      writeFileSync(join(dir, 'in.wav'), encodeWav16(tone(1000, 1, 48000, 0.5), 48000));
      execFileSync('opusenc', ['--quiet', '--bitrate', '64', join(dir, 'in.wav'), join(dir, 'out.opus')]);
      file = new Uint8Array(readFileSync(join(dir, 'out.opus')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const decoder = createInputDecoder('media-container');
    const out: Float32Array[] = [];
    for (const piece of randomPieces(file, 800, 5)) {
      const decoded = decoder.decode(piece);
      expect(decoded.sampleRate).toBe(48000);
      out.push(decoded.samples);
      // The WASM decoder works asynchronously; give it a turn, as a live socket would.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Empty payloads (what a muted client sends) collect what the decoder has finished since.
    for (let waited = 0; concatFloat(out).length < 0.9 * 48000 && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      out.push(decoder.decode(new Uint8Array(0)).samples);
    }
    const decoded = concatFloat(out);
    expect(decoded.length).toBeGreaterThan(0.9 * 48000);
    const steady = decoded.subarray(10000, 40000);
    expect(Math.abs(toDb(toneAmplitude(steady, 1000, 48000)) - toDb(0.5))).toBeLessThan(1.5);
  });
});
