import { defineConfig } from 'vitest/config';

// One vitest project per package (and per environment inside a package): each package owns
// its `vitest*.config.ts`, so the Node, jsdom and real-Chromium suites keep their own settings.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest*.config.ts', 'apps/*/vitest*.config.ts', '.storybook/vitest*.config.ts'],
    // Read from the root config for every browser project: a browser starting beside others'
    // audio threads on a loaded 2-core machine can take more than the default minute to connect.
    browser: { connectTimeout: 180_000 },
  },
});
