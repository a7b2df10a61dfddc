import { createPlayer } from '@voicewire/core';
import { expect, inject, it } from 'vitest';
import '../../../../testing/engineContext.ts';
import { tone } from '../../../../testing/audio.ts';
import { float32Bytes, sleep } from './harness.ts';

const RATE = 48_000;
const SILENCE = 0.001;

/**
 * Deterministic: an OfflineAudioContext suspended at a known frame, interrupt() called there, and
 * rendering resumed. The port message is queued on the rendering thread before the resume, so
 * the measurement holds no scheduling noise. (The real-time figure is in `pnpm bench`.)
 *
 * Firefox has no `OfflineAudioContext.suspend()` (nor `resume()`): there the same bounds are
 * checked by interrupt.test.ts on a real-time context, which the output gate makes deterministic.
 */
it('OfflineAudioContext.suspend() exists in Chromium and WebKit, not in Firefox', () => {
  expect(typeof OfflineAudioContext.prototype.suspend === 'function').toBe(inject('engine') !== 'firefox');
});

// Registered where the engine can run it (see above), rather than reported as skipped in Firefox.
if (typeof OfflineAudioContext.prototype.suspend === 'function')
  it('interrupt() at a known frame: below -60 dBFS within 10 ms of audio, a fade of at most 5 ms, late chunks silent', async () => {
    const context = new OfflineAudioContext({ numberOfChannels: 1, length: RATE, sampleRate: RATE });
    const player = await createPlayer({
      format: 'raw',
      sampleRate: 24_000,
      context: context as unknown as AudioContext,
    });
    const stream = float32Bytes(tone(440, 1, 24_000, 0.5));
    player.enqueue(stream.subarray(0, stream.length / 2));
    // The chunk's message must reach the worklet before the render starts (which then takes a few
    // ms): nothing observable says so (and in WebKit a chunk enqueued at a suspend of the render
    // never played); a delivery takes far less than this.
    await sleep(200);
    const interruptAt = 0.4;
    void context.suspend(interruptAt).then(() => {
      player.interrupt();
      player.enqueue(stream.subarray(stream.length / 2));
      void context.resume();
    });
    const rendered = (await context.startRendering()).getChannelData(0);
    const callFrame = Math.round(interruptAt * RATE);
    let lastLoud = -1;
    let lastFull = -1;
    for (let i = 0; i < rendered.length; i++) {
      if (Math.abs(rendered[i]!) > SILENCE) lastLoud = i;
      if (Math.abs(rendered[i]!) > 0.4) lastFull = i;
    }
    // The tone was playing up to the call…
    expect(rendered.subarray(RATE * 0.1, callFrame).some((s) => Math.abs(s) > 0.4)).toBe(true);
    // …is below -60 dBFS within 10 ms of audio after it, through a fade (no click) of at most 5 ms…
    expect(((lastLoud + 1 - callFrame) / RATE) * 1000).toBeLessThanOrEqual(10);
    expect(((lastLoud - lastFull) / RATE) * 1000).toBeGreaterThan(1);
    expect(((lastLoud - lastFull) / RATE) * 1000).toBeLessThanOrEqual(5);
    // …and the rest of the render, where the late chunks would have played, is digital silence.
    expect(lastLoud).toBeLessThan(callFrame + RATE * 0.01);
    // (The fade's tail below −60 dBFS ends with it: from 10 ms on, every sample is exactly zero.)
    expect(rendered.subarray(callFrame + RATE * 0.01).every((s) => s === 0)).toBe(true);
    expect(player.getStats().chunksDropped).toBe(1);
    player.close();
  });
