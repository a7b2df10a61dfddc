import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Node unit tests of @voicewire/core. Real-browser suites (test/browser/**, *.browser.test.ts)
// belong to the "core-browser" project.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'core',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    // The DSP sweeps do real work; on a shared 2-core machine they need more than the 5 s default.
    testTimeout: 30_000,
    include: ['packages/core/test/**/*.test.ts'],
    exclude: ['packages/core/test/browser/**', '**/*.browser.test.ts', '**/node_modules/**'],
  },
});
