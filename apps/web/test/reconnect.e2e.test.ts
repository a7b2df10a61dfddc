import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium, openDemo, pressStart, transcriptTurns, writeMicWav } from './helpers.ts';

// Quiet through the greeting and the first drop, then a sentence on the resumed connection.
const MIC = [{ silenceS: 5 }, { say: 'Are you still there?' }, { silenceS: 10 }];

let agent: LocalAgent;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('reconnect', MIC);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

test('a dropped connection reconnects and the transcript continues in the same conversation', async () => {
  // The local agent cuts every connection 3.5 s after its setup, without a close frame (1006).
  const { page, context, pageErrors } = await openDemo(browser, {
    server: `${agent.url}?fault=drop:3500`,
    agentId: 'demo-agent',
    apiKey: 'local-dev-key',
    greeting: 'Hello again.',
  });
  await pressStart(page);
  const firstId = await (
    await page.waitForFunction(() => window.__voicewire!.getState().conversationId, null, { timeout: 30_000 })
  ).jsonValue();
  await expect
    .poll(() => transcriptTurns(page, 'agent').count(), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(1);

  // The drop: the page says it is reconnecting, then is back.
  await expect
    .poll(() => page.getByTestId('conversation-state').getAttribute('data-status'), {
      timeout: 30_000,
      interval: 20,
    })
    .toBe('reconnecting');
  await expect.poll(() => page.getByTestId('notice').textContent()).toMatch(/reconnecting/i);
  await expect
    .poll(() => page.evaluate(() => window.__voicewire!.getState().status), { timeout: 30_000, interval: 20 })
    .toBe('connected');

  // The user speaks on the resumed connection; the reply joins the same transcript.
  await expect
    .poll(() => transcriptTurns(page, 'user').first().textContent(), { timeout: 45_000 })
    .toMatch(/s of speech/);
  const state = await page.evaluate(() => window.__voicewire!.getState());
  expect(state.conversationId).toBe(firstId);
  // The greeting from before the drop is still there, once: resuming does not greet again.
  expect(state.transcript[0]?.role).toBe('agent');
  expect(state.transcript.filter((turn) => turn.text.includes('Hello again')).length).toBe(1);
  const stats = await page.evaluate(() => window.__voicewire!.getStats());
  expect(stats.reconnects).toBeGreaterThanOrEqual(1);
  await expect.poll(() => page.getByTestId('conversation-id').textContent()).toBe(firstId as string);

  await page.getByRole('button', { name: /end conversation/i }).click();
  expect(pageErrors).toEqual([]);
  await context.close();
});
