import { type LocalAgent, startLocalAgent } from '@voicewire/server';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  launchChromium,
  openDemo,
  outputLevel,
  pressStart,
  transcriptTurns,
  waitForAudibleOutput,
  writeMicWav,
} from './helpers.ts';

// The provider switch end to end: with OpenAI Realtime or ElevenLabs selected, the demo holds a
// conversation with the local agent, which speaks each protocol at the vendor's path. The same
// widget shows it: the greeting heard and transcribed, the user's sentence heard and answered,
// the stats counting. The fake microphone is quiet during the greeting, then says one sentence,
// then leaves a long pause for the answer (Chromium loops the file).
const MIC = [{ silenceS: 4 }, { say: 'Hello there. What is the weather like today?' }, { silenceS: 9 }];
const GREETING = 'Hello from the local agent, in another dialect.';

let agent: LocalAgent;
let browser: Browser;

beforeAll(async () => {
  const wav = await writeMicWav('providers-agent', MIC);
  agent = await startLocalAgent({ port: 0, host: '127.0.0.1', greeting: GREETING, log: false });
  browser = await launchChromium({ fakeAudioFile: wav });
});

afterAll(async () => {
  await browser?.close();
  await agent?.close();
});

for (const [provider, path, endpointQuery] of [
  ['openai', '/v1/realtime', '?model=gpt-realtime'],
  ['elevenlabs', '/v1/convai/conversation', '?agent_id=demo-agent'],
  ['gemini', '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent', ''],
  ['deepgram', '/v1/agent/converse', ''],
  ['hume', '/v0/evi/chat', '?config_id=demo-agent'],
] as const) {
  test(`${provider}: the greeting, a turn and its answer, in the same widget`, async () => {
    const { page, context, pageErrors } = await openDemo(browser, {
      provider,
      server: `${agent.origin}${path}`,
    });
    await expect
      .poll(() => page.locator('.summary-text').textContent())
      .toBe(`${agent.origin}${path}${endpointQuery}`);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    expect(await outputLevel(page)).toBe(0);
    await pressStart(page);
    const talk = page.locator('[data-voicewire="talk-button"]');
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('true');

    await expect
      .poll(() => transcriptTurns(page, 'agent').first().textContent(), { timeout: 15_000 })
      .toContain(GREETING);
    expect(await waitForAudibleOutput(page)).toBeGreaterThan(0.01);

    // OpenAI's server says when it hears the user start (`speech_started`); ElevenLabs' says so
    // only when the user cuts the agent off, and otherwise sends the transcript once the turn ends.
    if (provider === 'openai')
      await expect
        .poll(() => talk.getAttribute('data-state'), { timeout: 20_000, interval: 20 })
        .toBe('userSpeaking');
    await expect
      .poll(() => transcriptTurns(page, 'user').first().textContent(), { timeout: 15_000 })
      .toMatch(/\d+(\.\d)? s of speech/);
    await expect
      .poll(() => transcriptTurns(page, 'agent').nth(1).textContent(), { timeout: 15_000 })
      .toContain('Here is what I heard');
    expect(await waitForAudibleOutput(page)).toBeGreaterThan(0.01);

    // One socket, on the service's path: ElevenLabs' is the signed URL the key bought.
    expect(sockets).toHaveLength(1);
    const opened = new URL(sockets[0]!);
    expect(opened.pathname).toBe(path);
    if (provider === 'elevenlabs') expect(opened.searchParams.get('conversation_signature')).toBeTruthy();
    // The stats panel counted real traffic both ways, as for PlayAI.
    await expect.poll(() => page.locator('[data-stat="framesSent"]').textContent()).not.toBe('0');
    const stats = await page.evaluate(() => window.__voicewire!.getStats());
    expect(stats.bytesReceived).toBeGreaterThan(10_000);
    expect(stats.timeToFirstAudioMs.length).toBeGreaterThanOrEqual(1);

    await page.getByRole('button', { name: 'End conversation' }).click();
    await expect.poll(() => talk.getAttribute('aria-pressed')).toBe('false');
    expect(pageErrors).toEqual([]);
    await context.close();
  });
}
