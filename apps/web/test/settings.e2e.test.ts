import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  accessibilityViolations,
  DESKTOP,
  demoUrl,
  launchChromium,
  openDemo,
  screenshot,
} from './helpers.ts';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

test('with no settings the page talks to the local agent on its own host', async () => {
  const { page, context } = await openDemo(browser, {});
  const settings = await page.evaluate(() => window.__voicewire!.settings);
  expect(settings.server).toBe('ws://127.0.0.1:8787/v1/talk');
  expect(settings.agentId).toBe('demo-agent');
  expect(settings.apiKey).toBe('local-dev-key');
  await expect
    .poll(() => page.locator('.summary-text').textContent())
    .toBe('ws://127.0.0.1:8787/v1/talk/demo-agent');
  await page.setViewportSize(DESKTOP);
  await page.locator('details.settings > summary').click();
  await screenshot(page, 'desktop-settings');
  expect(await accessibilityViolations(page)).toEqual([]);
  // The dark scheme keeps its contrast too.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('radio', { name: /relay token/i }).check();
  expect(await accessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'desktop-settings-dark');
  await context.close();
});

test('saved settings persist in localStorage, and the URL query wins over them', async () => {
  const { page, context } = await openDemo(browser, {});
  await page.locator('details.settings > summary').click();
  await page.getByLabel('Agent id').fill('saved-agent');
  await page.getByLabel('Output format').selectOption('flac');
  await page.getByLabel('Greeting').fill('Saved greeting');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).isVisible()).toBe(true);

  await page.reload();
  await page.waitForFunction(() => window.__voicewire !== undefined);
  let settings = await page.evaluate(() => window.__voicewire!.settings);
  expect(settings).toMatchObject({
    agentId: 'saved-agent',
    outputFormat: 'flac',
    greeting: 'Saved greeting',
  });

  await page.goto(demoUrl({ agentId: 'query-agent', outputSampleRate: 24000, inputEncoding: 'mulaw' }));
  await page.waitForFunction(() => window.__voicewire !== undefined);
  settings = await page.evaluate(() => window.__voicewire!.settings);
  expect(settings).toMatchObject({
    agentId: 'query-agent',
    outputFormat: 'flac',
    outputSampleRate: 24000,
    inputEncoding: 'mulaw',
    greeting: 'Saved greeting',
  });
  await page.locator('details.settings > summary').click();
  await expect.poll(() => page.getByLabel(/Agent id/).inputValue()).toBe('query-agent');
  await expect
    .poll(() => page.locator('label', { hasText: 'Agent id' }).locator('.from-query').textContent())
    .toBe('from URL');

  // Malformed values in the query are ignored rather than breaking the page.
  await page.goto(demoUrl({ outputFormat: 'aac', inputSampleRate: 'fast' }));
  await page.waitForFunction(() => window.__voicewire !== undefined);
  settings = await page.evaluate(() => window.__voicewire!.settings);
  expect(settings.outputFormat).toBe('flac');
  expect(settings.inputSampleRate).toBe(16000);
  await context.close();
});
