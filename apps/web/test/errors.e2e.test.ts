import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openDemo, PHONE, pressStart, screenshot, writeMicWav } from './helpers.ts';

let agent: LocalAgent;
let browser: Browser;
let micWav: string;

beforeAll(async () => {
  micWav = await writeMicWav('quiet', [{ silenceS: 2 }]);
  // This agent accepts one key only.
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', apiKeys: ['good'], log: false });
  browser = await launchChromium({ fakeAudioFile: micWav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

test('a refused API key shows a specific, friendly message', async () => {
  const { page, context, pageErrors } = await openDemo(browser, {
    server: agent.url,
    agentId: 'demo-agent',
    apiKey: 'bad',
  });
  await pressStart(page);
  const notice = page.getByTestId('notice');
  await expect.poll(() => notice.getAttribute('data-error-kind'), { timeout: 30_000 }).toBe('unauthorized');
  await expect.poll(() => notice.textContent()).toContain('The agent refused this API key.');
  await expect.poll(() => notice.textContent()).toContain('Check the API key in Settings');
  // Announced to assistive technology through the button's alert, and the button offers a retry.
  await expect.poll(() => page.getByRole('alert').textContent()).toContain('refused this API key');
  await expect
    .poll(() => page.locator('[data-voicewire="talk-button"]').getAttribute('data-state'))
    .toBe('error');
  await expect.poll(() => page.getByRole('button', { name: /try again/i }).isVisible()).toBe(true);
  // The microphone was released: no live track is left behind.
  const live = await page.evaluate(() => window.__voicewire!.getState().status);
  expect(live).toBe('error');
  await expect.poll(() => page.getByTestId('conversation-state').textContent()).toMatch(/stopped/i);
  await screenshot(page, 'desktop-refused-key');
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('the right key on the same agent works (the refusal above was the key, not the page)', async () => {
  const { page, context } = await openDemo(browser, {
    server: agent.url,
    agentId: 'demo-agent',
    apiKey: 'good',
  });
  await pressStart(page);
  await expect
    .poll(() => page.evaluate(() => window.__voicewire!.getState().conversationId), { timeout: 30_000 })
    .toMatch(/.+/);
  await expect.poll(() => page.getByTestId('notice').count()).toBe(0);
  await context.close();
});

test('a blocked microphone shows a specific, friendly message', async () => {
  // A browser that grants nothing by itself, and a site whose microphone permission is not given.
  const strict = await launchChromium({ fakeAudioFile: micWav, fakeUi: false });
  try {
    const { page, context, pageErrors } = await openDemo(strict, {
      server: agent.url,
      agentId: 'demo-agent',
      apiKey: 'good',
    });
    await context.clearPermissions();
    await pressStart(page);
    const notice = page.getByTestId('notice');
    await expect
      .poll(() => notice.getAttribute('data-error-kind'), { timeout: 30_000 })
      .toBe('microphone-permission-denied');
    await expect.poll(() => notice.textContent()).toContain('The microphone is blocked.');
    await expect.poll(() => notice.textContent()).toContain('Allow microphone access');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('microphone is blocked');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'phone-microphone-blocked');
    expect(pageErrors).toEqual([]);
    await context.close();
  } finally {
    await strict.close();
  }
});

test('an unreachable server says so and names the address', async () => {
  // A port nothing listens on (the agent's, after it has moved on) and no retries to wait through.
  const gone = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  const url = gone.url;
  await gone.close();
  const { page, context } = await openDemo(browser, { server: url, agentId: 'demo-agent', apiKey: 'good' });
  await pressStart(page);
  const notice = page.getByTestId('notice');
  await expect.poll(() => notice.getAttribute('data-error-kind'), { timeout: 30_000 }).toBe('network');
  await expect.poll(() => notice.textContent()).toMatch(/cannot reach the agent|connection dropped/i);
  await context.close();
});
