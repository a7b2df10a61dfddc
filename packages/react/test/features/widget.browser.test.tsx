import { VoiceWidget } from '@voicewire/react';
import '@voicewire/react/styles.css';
import { createRoot } from 'react-dom/client';
import { expect, inject, it } from 'vitest';
import '../../../../testing/engineContext.ts';
import { page } from 'vitest/browser';
import { agentUrl, liveTracks, PATIENT_AUDIO, RAW_MIC, until } from './harness.ts';

/**
 * The widget on a 360 px wide phone, against the real local agent: it opens, takes a call, fits
 * the screen, and closing the page's widget (unmount) releases the microphone.
 *
 * In push-to-talk: the project's microphone plays a loud tone all the time, which in voice
 * detection barges in on the greeting (the agent drops a greeting the user talks over, or cuts it
 * off), a race with the synthesiser that a loaded machine loses. Not held, the microphone stays
 * off the wire and the greeting plays out.
 */
it('<VoiceWidget> on a 360 px phone: opens, talks to the agent, fits the screen', async () => {
  await page.viewport(360, 740);
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(
    <VoiceWidget
      agentId="widget-agent"
      url={agentUrl}
      options={{
        apiKey: 'any-key',
        input: RAW_MIC,
        output: { format: 'mulaw', sampleRate: 16000 },
        turnTaking: 'pushToTalk',
        audio: PATIENT_AUDIO,
      }}
      devicePickers
    />,
  );
  await until(
    () => container.querySelector('[data-voicewire="voice-widget-launcher"]') !== null,
    20_000,
    'the launcher',
  );
  const launcher = container.querySelector('[data-voicewire="voice-widget-launcher"]') as HTMLButtonElement;
  launcher.click();
  await until(
    () => document.activeElement?.getAttribute('data-voicewire') === 'talk-button',
    20_000,
    'focus',
  );
  (document.activeElement as HTMLButtonElement).click();
  const status = container.querySelector('[role="status"]') as HTMLElement;
  await until(() => status.textContent === 'Agent speaking', 30_000, 'the greeting');

  const panel = container.querySelector('[data-voicewire="voice-widget-panel"]') as HTMLElement;
  const box = panel.getBoundingClientRect();
  expect(box.left).toBeGreaterThanOrEqual(0);
  expect(box.right).toBeLessThanOrEqual(360);
  expect(box.top).toBeGreaterThanOrEqual(0);
  // Nothing inside overflows the panel sideways.
  expect(panel.scrollWidth).toBeLessThanOrEqual(panel.clientWidth);
  // The picture in the docs comes from Chromium (Playwright's Firefox cannot capture the test's
  // frame: "Node is either not visible or not an HTMLElement").
  if (inject('engine') === 'chromium')
    await page.screenshot({ path: '../../../../artifacts/screenshots/voice-widget-phone.png' });

  root.unmount();
  container.remove();
  await until(() => liveTracks().length === 0, 20_000, 'the microphone to be released');
});
