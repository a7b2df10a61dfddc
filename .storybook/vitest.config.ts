import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumArgs, chromiumExecutable } from '../testing/chromium.ts';
import { workspaceSources } from '../testing/workspaceSources.ts';

const configDir = new URL('.', import.meta.url).pathname;

// Runs every story's play function (interaction test) and the a11y checks in real headless
// Chromium. Stories tagged `live` need the local agent and are left out.
export default defineConfig({
  plugins: [workspaceSources(), react(), storybookTest({ configDir, tags: { exclude: ['live'] } })],
  test: {
    name: 'storybook',
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 30_000,
    setupFiles: ['.storybook/vitest.setup.ts'],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: { executablePath: chromiumExecutable(), args: chromiumArgs() },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
