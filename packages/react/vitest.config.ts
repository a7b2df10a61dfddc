import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// @voicewire/react in jsdom: roles, names, aria-*, data-state, axe, render counts. The server
// rendering tests opt into the node environment per file.
export default defineConfig({
  plugins: [workspaceSources(), react()],
  test: {
    name: 'react',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'jsdom',
    include: ['packages/react/test/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', '**/*.browser.test.{ts,tsx}', '**/*.e2e.test.ts'],
    setupFiles: ['packages/react/test/setup.ts'],
    // axe in jsdom takes seconds on a busy 2-core machine.
    testTimeout: 30_000,
  },
});
