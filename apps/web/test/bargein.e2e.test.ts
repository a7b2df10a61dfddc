import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  AUDIBLE_RMS,
  launchChromium,
  openDemo,
  pressStart,
  SILENT_RMS,
  transcriptTurns,
  waitForAudibleOutput,
  waitForSilentOutput,
  writeMicWav,
} from './helpers.ts';

// A long greeting, and the user speaking over it a couple of seconds in.
const GREETING =
  'Welcome to the voicewire demo. This greeting is deliberately long, so that you have plenty of time ' +
  'to interrupt it: speak at any moment and I will stop talking right away and listen to you instead.';
const MIC = [{ silenceS: 4 }, { say: 'Sorry to interrupt, but I have a question.' }, { silenceS: 12 }];

let agent: LocalAgent;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('barge-in', MIC);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

test('speaking over the agent stops its voice and marks the turn interrupted', async () => {
  const { page, context, pageErrors } = await openDemo(browser, {
    server: agent.url,
    agentId: 'demo-agent',
    apiKey: 'local-dev-key',
    greeting: GREETING,
  });
  await pressStart(page);
  await waitForAudibleOutput(page);
  const talk = page.locator('[data-voicewire="talk-button"]');
  await expect
    .poll(() => talk.getAttribute('data-state'), { timeout: 30_000, interval: 20 })
    .toBe('agentSpeaking');

  // The user's voice arrives while the greeting still has many seconds to go.
  await expect
    .poll(() => talk.getAttribute('data-state'), { timeout: 30_000, interval: 10 })
    .toBe('userSpeaking');
  // The agent falls silent, long before the greeting would end: still within the user's turn
  // (the reply has not begun), and with nothing of the greeting after it (both checked below, on
  // the output tap's audio clock rather than by how fast a loaded machine notices the silence).
  const silentAt = await waitForSilentOutput(page);
  expect(['userSpeaking', 'thinking']).toContain(await talk.getAttribute('data-state'));

  // The transcript keeps only what was said, and says it was cut off.
  const greetingTurn = transcriptTurns(page, 'agent').first();
  await expect.poll(() => greetingTurn.getAttribute('data-interrupted')).toBe('');
  await expect.poll(() => greetingTurn.textContent()).toContain('interrupted');
  const spoken = (await greetingTurn.locator('[data-voicewire="transcript-text"]').textContent()) ?? '';
  // What the agent got to say before it was cut off: the start of the greeting, not all of it.
  expect(GREETING.startsWith(spoken.trim())).toBe(true);
  expect(spoken.length).toBeLessThan(GREETING.length);

  // The rest of the interrupted greeting never plays: every 10 ms the speakers got, from the
  // moment they fell silent to the reply's transcript (which the agent sends before the reply's
  // audio), stays below -60 dBFS. Marked in the page, the instant the reply's turn arrives.
  const replyAt = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const { conversation } = window.__voicewire!;
        const check = () => {
          const agentTurns = conversation.store.getState().transcript.filter((t) => t.role === 'agent');
          if (agentTurns.length < 2) return false;
          resolve(window.__outputTap!.now());
          return true;
        };
        if (!check()) {
          const unsubscribe = conversation.store.subscribe(() => {
            if (check()) unsubscribe();
          });
        }
      }),
  );
  expect(replyAt - silentAt).toBeGreaterThan(0.3);
  // The same tap heard the greeting before it was cut off (so its silence below is a measurement).
  expect(await page.evaluate((to) => window.__outputTap!.maxRms(0, to), silentAt)).toBeGreaterThan(
    AUDIBLE_RMS,
  );
  expect(
    await page.evaluate(([from, to]) => window.__outputTap!.maxRms(from!, to!), [silentAt, replyAt]),
  ).toBeLessThan(SILENT_RMS);
  expect(await page.evaluate(() => window.__outputTap!.uncoveredSeconds())).toBe(0);

  // The interruption time is measured (the figure itself goes to `pnpm bench`).
  const stats = await page.evaluate(() => window.__voicewire!.getStats());
  expect(stats.interruptionMs.length).toBeGreaterThanOrEqual(1);
  await expect.poll(() => page.locator('.turn-interrupt').count()).toBe(stats.interruptionMs.length);

  expect(pageErrors).toEqual([]);
  await context.close();
});
