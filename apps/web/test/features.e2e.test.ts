import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accessibilityViolations,
  launchChromium,
  openDemo,
  pressStart,
  screenshot,
  transcriptTurns,
  writeMicWav,
} from './helpers.ts';

// A noisy place: someone talks near the microphone all the time (Chromium loops the file).
const MIC = [
  { say: 'One two three four five, the quick brown fox jumps over the lazy dog.' },
  { silenceS: 0.3 },
];

let agent: LocalAgent;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('features', MIC);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

describe('the demo page: push to talk, device pickers, visualisers', () => {
  test('in push to talk the agent hears only what is said while the button is held; the mode switches mid-call', async () => {
    const { page, pageErrors } = await openDemo(browser, {
      server: agent.url,
      agentId: 'demo-agent',
      apiKey: 'local-dev-key',
      greeting: 'Hi.',
    });
    await page.getByRole('radio', { name: 'Push to talk' }).check();
    await pressStart(page);
    const hold = page.getByRole('button', { name: 'Hold to talk' });
    await expect.poll(() => hold.isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => hold.getAttribute('aria-pressed')).toBe('false');

    // The constant talk near the microphone never reaches the agent while the button is up (a
    // window: nothing may be sent in it, however long it lasts).
    await page.waitForTimeout(2500);
    expect(await transcriptTurns(page, 'user').count()).toBe(0);
    expect(await page.evaluate(() => window.__voicewire!.getStats().framesSent)).toBe(0);

    // Held for two seconds: one user turn, closed by the release, and the agent answers.
    await hold.hover();
    await page.mouse.down();
    await expect.poll(() => hold.getAttribute('aria-pressed')).toBe('true');
    await page.waitForTimeout(2000);
    await page.mouse.up();
    await expect
      .poll(() => transcriptTurns(page, 'user').first().textContent(), { timeout: 30_000 })
      .toMatch(/s of speech/);
    await expect
      .poll(() => transcriptTurns(page, 'agent').nth(1).textContent(), { timeout: 30_000 })
      .toContain('Here is what I heard');
    const afterTurn = await page.evaluate(() => window.__voicewire!.getStats().framesSent);
    await page.waitForTimeout(1500);
    // Nothing more is sent once the release's tail of silence is out (a bound over a window).
    expect(await page.evaluate(() => window.__voicewire!.getStats().framesSent)).toBeLessThanOrEqual(
      afterTurn + 50,
    );

    // Visualisers and device pickers are there, with real device names.
    await expect.poll(() => page.getByRole('img', { name: 'Agent voice visualizer' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('img', { name: 'Microphone visualizer' }).count()).toBe(1);
    const mic = page.getByRole('combobox', { name: 'Microphone' });
    await expect.poll(() => mic.locator('option').count()).toBeGreaterThanOrEqual(2);
    expect(await mic.locator('option').first().textContent()).not.toMatch(/^Microphone \d/);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'desktop-push-to-talk');

    // Back to voice detection mid-call: the same conversation, the microphone streams again.
    const conversationId = await page.evaluate(() => window.__voicewire!.getState().conversationId);
    await page.getByRole('radio', { name: 'Voice detection' }).check();
    await expect.poll(() => page.getByRole('button', { name: 'End conversation' }).count()).toBe(1);
    const before = await page.evaluate(() => window.__voicewire!.getStats().framesSent);
    await expect
      .poll(() => page.evaluate(() => window.__voicewire!.getStats().framesSent))
      .toBeGreaterThan(before + 10);
    expect(await page.evaluate(() => window.__voicewire!.getState().conversationId)).toBe(conversationId);
    expect(await page.evaluate(() => window.__voicewire!.getStats().reconnects)).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
