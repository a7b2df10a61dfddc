import { openaiRealtime } from '@voicewire/core/openai';
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

/** Height in pixels of each bar drawn on the canvas: the painted run down the bar's centre column. */
function barHeights(canvas: HTMLCanvasElement, bars: number): number[] {
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const pixels = context.getImageData(0, 0, width, height).data;
  const heights: number[] = [];
  for (let bar = 0; bar < bars; bar++) {
    const x = Math.floor((bar + 0.5) * (width / bars));
    let painted = 0;
    for (let y = 0; y < height; y++) if (pixels[(y * width + x) * 4 + 3]! > 0) painted++;
    heights.push(painted);
  }
  return heights;
}

/**
 * One option switches the service: the same widget, given `openaiRealtime()` and the local agent's
 * OpenAI Realtime endpoint, holds the call. The agent's PCM16 at 24 kHz is decoded and played, its
 * voice moves the widget's visualiser, its words reach the transcript, and unmounting releases
 * the microphone.
 */
it('<VoiceWidget provider={openaiRealtime()}>: the same widget talks OpenAI Realtime to the agent', async () => {
  const origin = new URL(agentUrl).origin;
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(
    <VoiceWidget
      provider={openaiRealtime({ voice: 'marin' })}
      url={`${origin}/v1/realtime`}
      options={{ apiKey: 'any-key', input: RAW_MIC }}
      placement="inline"
      defaultOpen
    />,
  );
  await until(
    () => container.querySelector('[data-voicewire="talk-button"]') !== null,
    5000,
    'the talk button',
  );
  (container.querySelector('[data-voicewire="talk-button"]') as HTMLButtonElement).click();
  const status = container.querySelector('[role="status"]') as HTMLElement;
  await until(() => status.textContent === 'Agent speaking', 20_000, 'the greeting');
  const canvas = container.querySelector('[data-voicewire="audio-visualizer"]') as HTMLCanvasElement;
  // The visualiser follows the status on its next frame: awaited, not read in the same task.
  await until(() => canvas.dataset.state === 'active', 10_000, 'the visualiser active');
  // The agent's voice moves the bars: at rest they are all one height.
  await until(() => new Set(barHeights(canvas, 20)).size > 1, 20_000, 'the bars to follow the voice');
  const log = container.querySelector('[role="log"]') as HTMLElement;
  await until(() => (log.textContent ?? '').trim().length > 0, 10_000, 'the greeting in the transcript');

  root.unmount();
  container.remove();
  await until(() => liveTracks().length === 0, 5000, 'the microphone to be released');
});
