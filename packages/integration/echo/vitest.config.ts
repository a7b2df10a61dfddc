import { defineConfig } from 'vitest/config';

// `pnpm test:echo`: the echo suite's three projects (vitest.echo*.config.ts: `echo`,
// `echo-firefox`, `echo-webkit`). Kept out of the root config's projects, so out of `npm test`,
// until the echo guard meets the suite's targets (the core README, "Echo guard").
export default defineConfig({
  test: {
    projects: [new URL('./vitest.echo*.config.ts', import.meta.url).pathname],
  },
});
