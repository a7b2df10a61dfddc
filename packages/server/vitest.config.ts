import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// The Node side of voicewire (local agent, relay, server audio). Tests talk to real servers over
// real sockets on 127.0.0.1 (port 0), so they get a generous per-test timeout.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'server',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['packages/server/test/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      '**/*.browser.test.ts',
      '**/*.e2e.test.ts',
      'packages/server/test/sdk/**',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
