/**
 * The headerless codecs other vendors' protocols carry: G.711 A-law (OpenAI `audio/pcma`,
 * Deepgram `alaw`) and 16-bit PCM (OpenAI `audio/pcm`, ElevenLabs `pcm_*`), checked against sox
 * as an independent implementation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatToPcm16, pcm16ToBytes } from '@voicewire/core';
import { createInputDecoder, createOutputEncoder, encodeClip } from '@voicewire/server';
import { afterAll, describe, expect, test } from 'vitest';
import { toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { requireSox } from '../../../../testing/tools.ts';
import { alawDecodeSample, alawEncodeSample } from '../../src/audio/codec/alaw.ts';
import { concatBytes, concatFloat, decodeWithSox, fitTones, randomPieces } from './realDecoders.ts';

const scratch = mkdtempSync(join(tmpdir(), 'voicewire-alaw-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('G.711 A-law', () => {
  test("every byte decodes to the sample sox's decoder gives", () => {
    requireSox('wav');
    const input = join(scratch, 'all.al');
    writeFileSync(
      input,
      Uint8Array.from({ length: 256 }, (_, i) => i),
    );
    const output = execFileSync('sox', [
      '-D',
      '-V1',
      '-t',
      'al',
      '-r',
      '8000',
      '-c',
      '1',
      input,
      '-t',
      's16',
      '-',
    ]);
    const expected = Array.from({ length: 256 }, (_, i) => output.readInt16LE(i * 2));
    expect(Array.from({ length: 256 }, (_, i) => alawDecodeSample(i))).toEqual(expected);
  });

  test("the encoder follows G.191: known codes, one's complement for negatives, error within half a step", () => {
    // Silence is 0xD5 (positive zero with the even bits inverted) and -1 folds to negative zero.
    expect(alawEncodeSample(0)).toBe(0xd5);
    expect(alawEncodeSample(-1)).toBe(0x55);
    expect(alawEncodeSample(32767)).toBe(0xaa);
    expect(alawEncodeSample(-32768)).toBe(0x2a);
    expect(alawEncodeSample(Number.NaN)).toBe(0xd5);
    for (let sample = -32768; sample < 32768; sample += 7) {
      const decoded = alawDecodeSample(alawEncodeSample(sample));
      // Segment 0 and 1 have steps of 16; each further segment doubles it (a 2048 step at the top).
      const magnitude = Math.abs(sample);
      const step = magnitude < 512 ? 16 : 2 ** (Math.floor(Math.log2(magnitude)) - 4);
      expect(Math.abs(decoded - sample)).toBeLessThanOrEqual(step / 2 + 8);
    }
  });

  test('a tone encoded by the agent plays back through sox within 1 dB, nothing else above -30 dB', async () => {
    requireSox('wav');
    const rate = 8000;
    const signal = tone(1000, 1, rate, 0.5);
    const encoder = await createOutputEncoder('alaw', rate);
    const bytes = concatBytes([
      encoder.encode(signal.subarray(0, 1001)),
      encoder.encode(signal.subarray(1001)),
      encoder.finish(),
    ]);
    expect(bytes).toHaveLength(signal.length);
    const decoded = decodeWithSox(bytes, 'al');
    expect(decoded.sampleRate).toBe(rate);
    expect(Math.abs(toDb(toneAmplitude(decoded.samples, 1000, rate)) - toDb(0.5))).toBeLessThan(1);
    expect(fitTones(decoded.samples, [1000], rate).residualDb).toBeLessThan(-30);
  });

  test('A-law from sox decodes in any chunking to the tone', () => {
    requireSox('wav');
    const rate = 8000;
    const wav = join(scratch, 'tone.s16');
    writeFileSync(wav, pcm16ToBytes(floatToPcm16(tone(440, 1, rate, 0.4))));
    const al = join(scratch, 'tone.al');
    execFileSync('sox', ['-D', '-V1', '-t', 's16', '-r', String(rate), '-c', '1', wav, al]);
    const decoder = createInputDecoder('alaw', rate);
    const out: Float32Array[] = [];
    for (const piece of randomPieces(new Uint8Array(readFileSync(al)), 160, 3)) {
      const decoded = decoder.decode(piece);
      expect(decoded.sampleRate).toBe(rate);
      out.push(decoded.samples);
    }
    const samples = concatFloat(out);
    expect(samples).toHaveLength(rate);
    expect(Math.abs(toDb(toneAmplitude(samples, 440, rate)) - toDb(0.4))).toBeLessThan(1);
  });
});

describe('pcm16', () => {
  test('headerless 16-bit little-endian: what linear16 decodes back sample for sample', async () => {
    const rate = 24_000;
    const signal = tone(700, 0.5, rate, 0.6);
    const chunks = await encodeClip('pcm16', rate, signal, 60);
    // 60 ms chunks of whole samples, each labelled with the audio it carries.
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.bytes.length % 2).toBe(0);
      expect(chunk.ms).toBeGreaterThanOrEqual(60);
      expect(chunk.ms).toBeLessThan(70);
    }
    const bytes = concatBytes(chunks.map((c) => c.bytes));
    expect(bytes).toEqual(pcm16ToBytes(floatToPcm16(signal)));
    const decoded = createInputDecoder('linear16', rate).decode(bytes);
    expect(decoded.samples).toHaveLength(signal.length);
    expect(Math.abs(toDb(toneAmplitude(decoded.samples, 700, rate)) - toDb(0.6))).toBeLessThan(0.1);
  });
});
