import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Node unit tests of the demo page's own logic (settings, error messages). The real-browser
// suite is the "e2e" project (vitest.e2e.config.ts).
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'web',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['apps/web/test/**/*.test.ts'],
    exclude: ['**/*.e2e.test.ts', '**/node_modules/**'],
  },
});
