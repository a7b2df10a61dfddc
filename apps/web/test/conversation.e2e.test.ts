import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accessibilityViolations,
  launchChromium,
  openDemo,
  outputLevel,
  PHONE,
  pressStart,
  screenshot,
  transcriptTurns,
  waitForAudibleOutput,
  writeMicWav,
} from './helpers.ts';

// The fake microphone: quiet while the (short) greeting plays, then one sentence, then a long
// pause in which the agent answers. Chromium loops the file.
const MIC = [{ silenceS: 4 }, { say: 'Hello there. What is the weather like today?' }, { silenceS: 9 }];
const GREETING = 'Hello, I am listening.';

let agent: LocalAgent;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('conversation', MIC);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

describe('a conversation in the demo page', () => {
  test('the greeting plays, the user is heard, both transcripts appear, the reply plays; on desktop and phone', async () => {
    const { page, context, pageErrors } = await openDemo(browser, {
      server: agent.url,
      agentId: 'demo-agent',
      apiKey: 'local-dev-key',
      greeting: GREETING,
    });

    // Nothing plays before the visitor asks for it.
    expect(await outputLevel(page)).toBe(0);
    await pressStart(page);
    const talk = page.locator('[data-voicewire="talk-button"]');
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('true');

    // The greeting: its text in the transcript and its sound on the player.
    await expect
      .poll(() => transcriptTurns(page, 'agent').first().textContent(), { timeout: 30_000 })
      .toContain(GREETING);
    expect(await waitForAudibleOutput(page)).toBeGreaterThan(0.01);

    // The user's sentence: detected (the button shows it), then transcribed by the local agent.
    await expect
      .poll(() => talk.getAttribute('data-state'), { timeout: 30_000, interval: 20 })
      .toBe('userSpeaking');
    await expect
      .poll(() => transcriptTurns(page, 'user').first().textContent(), { timeout: 30_000 })
      .toMatch(/\d+(\.\d)? s of speech/);

    // The reply: a second agent turn, and its audio plays.
    await expect
      .poll(() => transcriptTurns(page, 'agent').nth(1).textContent(), { timeout: 30_000 })
      .toContain('Here is what I heard');
    expect(await waitForAudibleOutput(page)).toBeGreaterThan(0.01);

    // The stats panel counted real traffic both ways.
    const stats = await page.evaluate(() => window.__voicewire!.getStats());
    expect(stats.framesSent).toBeGreaterThan(50);
    expect(stats.bytesReceived).toBeGreaterThan(10_000);
    expect(stats.timeToFirstAudioMs.length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('[data-stat="framesSent"]').textContent()).not.toBe('0');
    // The player's own figures reach the panel: jitter-buffer depth and target, underruns.
    await expect
      .poll(() => page.locator('[data-stat="jitterBuffer"]').textContent())
      .toMatch(/^\d+ \/ \d+ ms$/);
    await expect.poll(() => page.locator('[data-stat="underruns"]').textContent()).toMatch(/^\d+$/);

    await screenshot(page, 'desktop-conversation');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The same page on a phone: nothing sticks out sideways, the button is a comfortable target.
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = await talk.boundingBox();
    expect(box?.height).toBeGreaterThanOrEqual(44);
    expect(box?.width).toBeGreaterThan(200);
    await screenshot(page, 'phone-conversation');
    await page.locator('details.settings > summary').click();
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, 'phone-settings');
    await page.getByRole('button', { name: /end conversation/i }).click();
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('false');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
