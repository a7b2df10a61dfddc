import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Tests that cross the package graph: the conversation controller of @voicewire/core against
// the real local agent of @voicewire/server over WebSockets on 127.0.0.1, and the generated
// worklet modules against their sources. They import the packages by name, as a user would;
// each package's own project tests it alone.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'integration',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['packages/integration/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
