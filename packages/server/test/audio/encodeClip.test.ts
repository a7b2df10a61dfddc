import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { encodeClip } from '@voicewire/server';
import { describe, expect, test } from 'vitest';
import { toDb, tone, toneAmplitude } from '../../../../testing/audio.ts';
import { decodeStream, streamingDecoder } from './realDecoders.ts';

const formats: OutputFormat[] = ['mp3', 'ogg', 'flac', 'wav', 'raw', 'mulaw'];

describe('encodeClip: a whole utterance cut into chunks labelled with the audio they carry', () => {
  test.each(formats)(
    '%s: chunks of >= 60 ms that add up to the clip and start playing at once',
    async (format) => {
      const rate = 24000;
      const clip = tone(1000, 2.05, rate, 0.5);
      const chunks = await encodeClip(format, rate, clip, 60);
      const totalMs = chunks.reduce((sum, c) => sum + c.ms, 0);
      const clipMs = (clip.length / rate) * 1000;
      // mp3 frames also carry LAME's 576-sample delay and the last frame's padding.
      expect(totalMs).toBeGreaterThanOrEqual(clipMs - 0.01);
      expect(totalMs).toBeLessThanOrEqual(clipMs + (format === 'mp3' ? 3 * 24 : 0.01));
      for (const chunk of chunks.slice(0, -1)) expect(chunk.ms).toBeGreaterThanOrEqual(60);
      // No chunk holds much more than asked: at most one codec unit (an mp3 frame is 24 ms here,
      // an Ogg page ≤ 100 ms, a FLAC block 48 ms).
      for (const chunk of chunks) expect(chunk.ms).toBeLessThanOrEqual(160);
      expect(chunks[0]!.ms).toBeGreaterThan(0);

      if (format === 'mp3' || format === 'ogg' || format === 'flac') {
        // The first two chunks (headers included) already decode to audio: the ogg decoder's parser
        // waits for the next page's capture pattern before it trusts a page, so it needs two.
        const decoder = await streamingDecoder(format);
        const first = await decoder.push(chunks[0]!.bytes);
        const second = await decoder.push(chunks[1]!.bytes);
        decoder.free();
        expect(first.samples.length + second.samples.length).toBeGreaterThan(0);
        if (format === 'flac') expect(first.samples.length).toBeGreaterThan(0);
        // The concatenation is one valid stream holding the whole tone.
        const decoded = await decodeStream(
          format,
          chunks.map((c) => c.bytes),
        );
        expect(decoded.sampleRate).toBe(rate);
        expect(decoded.samples.length).toBeGreaterThanOrEqual(clip.length);
        const steady = decoded.samples.subarray(rate, rate + 12000);
        expect(Math.abs(toDb(toneAmplitude(steady, 1000, rate)) - toDb(0.5))).toBeLessThan(3);
      }
    },
  );
});
