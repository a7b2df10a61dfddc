import type { StorybookConfig } from '@storybook/react-vite';
import { workspaceSources } from '../testing/workspaceSources.ts';

// Stories of @voicewire/react: every component in every state, driven by a conversation fed
// scripted server messages (no network), plus one story wired to the local agent.
const config: StorybookConfig = {
  stories: ['./stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-a11y', '@storybook/addon-docs', '@storybook/addon-vitest'],
  framework: { name: '@storybook/react-vite', options: { strictMode: true } },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  // Props tables from the components' TSDoc.
  typescript: {
    reactDocgen: 'react-docgen-typescript',
    reactDocgenTypescriptOptions: {
      // The props a component declares, not the hundreds it inherits from HTML attributes.
      propFilter: (prop) => !prop.parent || !/node_modules/.test(prop.parent.fileName),
      shouldExtractLiteralValuesFromEnum: true,
    },
  },
  viteFinal: (viteConfig) => ({
    ...viteConfig,
    // The library from its sources, as in the tests and the demo.
    plugins: [...(viteConfig.plugins ?? []), workspaceSources()],
    build: {
      ...viteConfig.build,
      // Storybook's own manager and preview chunks are large by nature.
      chunkSizeWarningLimit: 2048,
      rolldownOptions: {
        ...viteConfig.build?.rolldownOptions,
        // 'use client' marks our modules for React Server Components; a client bundle drops it.
        checks: { ...viteConfig.build?.rolldownOptions?.checks, moduleLevelDirective: false },
      },
    },
  }),
};
export default config;
