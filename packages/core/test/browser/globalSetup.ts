import { Buffer } from 'node:buffer';
import type { OutputFormat } from '@voicewire/core/playai/protocol';
import { createOutputEncoder } from '@voicewire/server';
import type { TestProject } from 'vitest/node';
import { tone } from '../../../../testing/audio.ts';
import {
  PLAYER_TEST_AMPLITUDE,
  PLAYER_TEST_RATE,
  PLAYER_TEST_SECONDS,
  PLAYER_TEST_TONE_HZ,
} from './fixtures.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** A tone encoded by the server's own encoders, per output format, as base64. */
    encodedStreams: Record<OutputFormat, string>;
  }
}

/**
 * Runs in Node before the browser tests: encode the test tone in every output format with the
 * local agent's encoders (the same bytes a real session would carry) and hand them to the tests.
 */
export default async function setup(project: TestProject): Promise<void> {
  const formats: OutputFormat[] = ['mp3', 'raw', 'wav', 'ogg', 'flac', 'mulaw'];
  const streams = {} as Record<OutputFormat, string>;
  const signal = tone(PLAYER_TEST_TONE_HZ, PLAYER_TEST_SECONDS, PLAYER_TEST_RATE, PLAYER_TEST_AMPLITUDE);
  for (const format of formats) {
    const encoder = await createOutputEncoder(format, PLAYER_TEST_RATE);
    const parts: Uint8Array[] = [];
    // Feed it in 20 ms pieces, as the agent's TTS would.
    const step = PLAYER_TEST_RATE / 50;
    for (let i = 0; i < signal.length; i += step) parts.push(encoder.encode(signal.subarray(i, i + step)));
    parts.push(encoder.finish());
    streams[format] = Buffer.concat(parts).toString('base64');
  }
  project.provide('encodedStreams', streams);
}
