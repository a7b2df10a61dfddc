import { defaultClientConditions, defaultServerConditions, type Plugin } from 'vite';

/**
 * The export condition that points each workspace package at its TypeScript sources
 * (`"@voicewire/source": "./src/index.ts"`, first in every `exports` entry). Published packages
 * drop it (their `publishConfig.exports`), so what is packed is dist/; see docs/packaging.md.
 */
export const SOURCE_CONDITION = '@voicewire/source';

/**
 * Vite plugin for every Vite, Vitest and Storybook config in this repository: resolve the
 * workspace packages to their sources in every environment (client, SSR, Vitest's node and jsdom
 * runners), so tests, Storybook and the demo need no build and see edits at once.
 */
export function workspaceSources(): Plugin {
  return {
    name: 'voicewire:workspace-sources',
    enforce: 'pre',
    configEnvironment(name, config) {
      const client = config.consumer ? config.consumer === 'client' : name === 'client';
      // Set conditions replace Vite's defaults, and a plugin's arrays are appended to them.
      const conditions = config.resolve?.conditions
        ? [SOURCE_CONDITION]
        : [SOURCE_CONDITION, ...(client ? defaultClientConditions : defaultServerConditions)];
      return { resolve: { conditions } };
    },
  };
}
