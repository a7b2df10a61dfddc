import { existsSync } from 'node:fs';

/**
 * The Chromium the browser tests drive: `VOICEWIRE_CHROMIUM` (set by scripts/setup.mjs), else
 * Debian's, else Playwright's own download (undefined lets Playwright find it).
 */
export function chromiumExecutable(): string | undefined {
  const candidates = [process.env.VOICEWIRE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => Boolean(path && existsSync(path)));
}

/**
 * Flags for headless runs on these machines: no background networking (the closed network
 * refuses it), autoplay without a gesture, and a fake microphone with no permission prompt.
 * `fakeMicrophone: false` keeps the real devices (the sound server's), still without a prompt.
 */
export function chromiumArgs(
  options: { fakeAudioFile?: string; fakeMicrophone?: boolean; extra?: string[] } = {},
): string[] {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream',
    ...(options.fakeMicrophone === false ? [] : ['--use-fake-device-for-media-stream']),
  ];
  if (options.fakeAudioFile) args.push(`--use-file-for-fake-audio-capture=${options.fakeAudioFile}`);
  return [...args, ...(options.extra ?? [])];
}
