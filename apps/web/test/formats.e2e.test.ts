import { OUTPUT_FORMATS } from '@voicewire/core/playai/protocol';
import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  AUDIBLE_RMS,
  type DemoPage,
  demoUrl,
  launchChromium,
  openDemo,
  pressStart,
  reportOnFailure,
  waitForAudibleOutput,
  writeMicWav,
} from './helpers.ts';

let agent: LocalAgent;
let browser: Browser;
// One tab for every format, reloaded with new settings each time: a fresh page load per format
// (what a visitor changing the setting gets) without paying for a new browser context each time.
let demo: DemoPage;

beforeAll(async () => {
  // A silent microphone: nothing interrupts the greetings.
  const wav = await writeMicWav('silence', [{ silenceS: 2 }]);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
  demo = await openDemo(browser, {}, { reportFailures: false });
});

afterAll(async () => {
  await demo?.context.close();
  await browser?.close();
  await agent?.close();
});

// A rate other than the context's for most, so each format also goes through the resampler.
const RATES: Record<string, number> = {
  mp3: 44100,
  raw: 24000,
  wav: 16000,
  ogg: 48000,
  flac: 22050,
  mulaw: 8000,
};

test.each(OUTPUT_FORMATS)('the %s output format plays', async (format) => {
  const { page, pageErrors, messages } = demo;
  pageErrors.length = 0;
  messages.length = 0;
  reportOnFailure(demo);
  await page.goto(
    demoUrl({
      server: agent.url,
      agentId: 'demo-agent',
      apiKey: 'local-dev-key',
      greeting: 'Testing this output format: one, two, three, four, five.',
      outputFormat: format,
      outputSampleRate: RATES[format] ?? 24000,
    }),
  );
  await page.waitForFunction(() => window.__voicewire !== undefined);
  await pressStart(page);
  expect(await waitForAudibleOutput(page)).toBeGreaterThan(AUDIBLE_RMS);
  // The session really asked for this format (the page did not fall back to a default).
  // (The previous page's socket may still report its last frames, so look for the setup itself.)
  const setups = messages.filter((message) => message.includes('"type":"setup"'));
  expect(setups).toHaveLength(1);
  expect(setups[0]).toContain(`"outputFormat":"${format}"`);
  const state = await page.evaluate(() => window.__voicewire!.getState());
  expect(state.error).toBeNull();
  await page.getByRole('button', { name: /end conversation/i }).click();
  await expect.poll(() => page.evaluate(() => window.__voicewire!.getState().status)).toBe('ended');
  expect(pageErrors).toEqual([]);
});
