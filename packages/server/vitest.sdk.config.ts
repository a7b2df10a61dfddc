import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Compatibility with PlayAI's own browser SDK (@play-ai/agent-web-sdk, pinned): the unmodified
// SDK runs in Debian's headless Chromium with a fake microphone and holds a conversation with the
// local agent over a real socket. One file, one browser at a time.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'sdk',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['packages/server/test/sdk/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
