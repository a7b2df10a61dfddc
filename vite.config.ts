import { defineConfig } from 'vitest/config';

// One vitest project per package (and per environment inside a package): each package owns
// its `vitest*.config.ts`, so the Node, jsdom and real-Chromium suites keep their own settings.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest*.config.ts', 'apps/*/vitest*.config.ts', '.storybook/vitest*.config.ts'],
  },
});
