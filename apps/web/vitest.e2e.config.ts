import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// End-to-end tests: the demo page built by Vite and served on 127.0.0.1, the local agent on a
// free port, and Debian's Chromium driven by Playwright with a fake microphone that plays a
// speech WAV written at test time. Files run one at a time: each drives a real browser and real
// audio on a 2-core machine, and parallel files would only make their audio glitch.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'e2e',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['apps/web/test/**/*.e2e.test.ts'],
    globalSetup: ['apps/web/test/globalSetup.ts'],
    fileParallelism: false,
    // The files share one worker and its module cache: Playwright, Vite and the agent load once
    // rather than once per file. Each file still starts and stops its own agent and browser.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // What must eventually happen in a real browser on a loaded machine: polled for up to 20 s by
    // default (a test asks for longer where a turn of the conversation has to come round).
    expect: { poll: { timeout: 20_000 } },
  },
});
