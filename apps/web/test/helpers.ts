import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { inject, onTestFailed } from 'vitest';
import { encodeWav16 } from '../../../testing/audio.ts';
import { chromiumArgs, chromiumExecutable } from '../../../testing/chromium.ts';
import { installOutputTap, tappedLevel } from './outputTap.ts';

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Screenshots land here (artifacts/ is git-ignored) for a person to look at after a run. */
export const SCREENSHOT_DIR = new URL('../../../artifacts/screenshots/', import.meta.url).pathname;

/** Output RMS above this is the agent audibly speaking (-40 dBFS; mespeak speech sits near -20). */
export const AUDIBLE_RMS = 0.01;
/** Output RMS below this is silence (-60 dBFS, the interruption target). */
export const SILENT_RMS = 0.001;

const FAKE_MIC_RATE = 48_000;

/**
 * Writes a WAV for Chromium's fake microphone: pieces of silence and of synthesised speech (the
 * local agent's own offline synthesiser), in order. Chromium loops the file, so it should end in
 * enough silence for the agent to answer.
 */
export async function writeMicWav(
  name: string,
  parts: ({ silenceS: number } | { say: string })[],
): Promise<string> {
  // Imported lazily: the synthesiser's voice data loads only for the files that speak.
  const { synthesizeSpeech } = await import('@voicewire/server');
  const pieces: Float32Array[] = [];
  for (const part of parts) {
    if ('silenceS' in part) pieces.push(new Float32Array(Math.round(part.silenceS * FAKE_MIC_RATE)));
    else pieces.push(normalise(await synthesizeSpeech(part.say, { sampleRate: FAKE_MIC_RATE })));
  }
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const samples = new Float32Array(total);
  let offset = 0;
  for (const piece of pieces) {
    samples.set(piece, offset);
    offset += piece.length;
  }
  const path = join(inject('scratchDir'), `${name}.wav`);
  writeFileSync(path, encodeWav16(samples, FAKE_MIC_RATE));
  return path;
}

/** Speech peaking at -6 dBFS: loud enough for any detector, never clipped. */
function normalise(samples: Float32Array): Float32Array {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  if (peak === 0) return samples;
  const gain = 0.5 / peak;
  return samples.map((s) => s * gain);
}

export async function launchChromium(
  options: { fakeAudioFile?: string; fakeUi?: boolean } = {},
): Promise<Browser> {
  let args = chromiumArgs(options.fakeAudioFile ? { fakeAudioFile: options.fakeAudioFile } : {});
  // Without the fake UI flag nothing grants the microphone: a permission the context denies stays denied.
  if (options.fakeUi === false) args = args.filter((arg) => arg !== '--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: chromiumExecutable(), args, headless: true });
}

/** The demo page's URL with these settings in the query (the query wins over saved settings). */
export function demoUrl(settings: Record<string, string | number>): string {
  const url = new URL(inject('webUrl'));
  for (const [key, value] of Object.entries(settings)) url.searchParams.set(key, String(value));
  return url.href;
}

export interface DemoPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors in the page and the library's logged internal errors: a test ends by expecting none. */
  pageErrors: string[];
  /** The type of every message on the page's sockets, in order (`<` received, `>` sent; no audio). */
  messages: string[];
}

/** Audio messages of each protocol: one line per run of them in a failure's log, not one each. */
const AUDIO_MESSAGES = new Set([
  'audioIn',
  'audioStream',
  'input_audio_buffer.append',
  'response.output_audio.delta',
  'user_audio_chunk',
  'audio',
]);

export async function openDemo(
  browser: Browser,
  settings: Record<string, string | number>,
  options: {
    viewport?: { width: number; height: number };
    permissions?: string[];
    /** Print the socket messages if the calling test fails; `false` when opened in a hook. @defaultValue true */
    reportFailures?: boolean;
  } = {},
): Promise<DemoPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    ...(options.permissions ? { permissions: options.permissions } : {}),
  });
  // What the page sends to its speakers, heard independently of the library's own meter.
  await installOutputTap(context);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // The library's internal-error channel: what its socket handlers caught and logged. A test
  // that ends expecting no page errors fails on these too.
  page.on('console', (message) => {
    if (message.type() === 'error' && /\[voicewire\]|VoicewireError/.test(message.text())) {
      pageErrors.push(`console.error: ${message.text()}`);
    }
  });
  // What went over the wire, for the failure message of a test that waits on the conversation.
  const messages: string[] = [];
  page.on('websocket', (socket) => {
    const record = (direction: string, payload: string | Buffer) => {
      const text = typeof payload === 'string' ? payload : payload.toString('utf8');
      const type = text.startsWith('{"user_audio_chunk"')
        ? 'user_audio_chunk'
        : (/"type"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? '?');
      if (AUDIO_MESSAGES.has(type)) {
        if (messages.at(-1) !== `${direction}${type}…`) messages.push(`${direction}${type}…`);
      } else {
        messages.push(`${direction}${text.length > 160 ? `${text.slice(0, 160)}…` : text}`);
      }
    };
    socket.on('framereceived', (frame) => record('<', frame.payload));
    socket.on('framesent', (frame) => record('>', frame.payload));
    socket.on('close', () => messages.push('closed'));
  });
  await page.goto(demoUrl(settings));
  await page.waitForFunction(() => window.__voicewire !== undefined);
  const demo = { context, page, pageErrors, messages };
  // Opened in a hook, the tests that use the page call reportOnFailure themselves.
  if (options.reportFailures !== false) reportOnFailure(demo);
  return demo;
}

/** When the running test fails, print what went over the socket and what the page threw. */
export function reportOnFailure({ page, messages, pageErrors }: DemoPage): void {
  onTestFailed(async () => {
    console.log(`socket messages of the failed test:\n${messages.join('\n')}`);
    if (pageErrors.length > 0) console.log(`page errors:\n${pageErrors.join('\n')}`);
    const snapshot = await page
      .evaluate(() => ({ state: window.__voicewire?.getState(), stats: window.__voicewire?.getStats() }))
      .catch((error: unknown) => String(error));
    console.log(`page state and stats:\n${JSON.stringify(snapshot)}`);
  });
}

/** Presses the widget's talk button, as a visitor would. */
export async function pressStart(page: Page): Promise<void> {
  await page.getByRole('button', { name: /start conversation/i }).click();
}

/** RMS of the last 20 ms the page sent to its speakers, read by the output tap (outputTap.ts). */
export function outputLevel(page: Page): Promise<number> {
  return tappedLevel(page);
}

/** Waits until the agent's voice is audible at the page's speakers (the output tap). */
export async function waitForAudibleOutput(page: Page, timeoutMs = 30_000): Promise<number> {
  const handle = await page.waitForFunction(
    (min) => {
      const level = window.__outputTap?.level() ?? 0;
      return level > min ? level : false;
    },
    AUDIBLE_RMS,
    { timeout: timeoutMs, polling: 20 },
  );
  return (await handle.jsonValue()) as number;
}

/** Waits until the page's speakers are silent (the output tap); resolves with the context time. */
export async function waitForSilentOutput(page: Page, timeoutMs = 20_000): Promise<number> {
  const handle = await page.waitForFunction(
    (max) => {
      const tap = window.__outputTap;
      return tap && tap.contexts() > 0 && tap.level() < max ? tap.now() : false;
    },
    SILENT_RMS,
    { timeout: timeoutMs, polling: 10 },
  );
  return (await handle.jsonValue()) as number;
}

export function transcriptTurns(page: Page, role: 'user' | 'agent') {
  return page.locator(`[data-voicewire="transcript-turn"][data-role="${role}"]`);
}

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Accessibility problems axe finds on the page as it is now (serious and critical ones), as
 * `rule: element` lines, so a failure says what to fix.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact?: string | null; nodes: { target: unknown[] }[] }[];
    }
    const results = await axe.run(document);
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')}`));
  });
  return violations;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // From the top: the widget is sticky, and a page scrolled by an earlier click would show it
  // halfway down the full-page image.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}
