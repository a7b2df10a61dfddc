import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { tone } from '../../testing/audio.ts';
import { engineTestOptions } from '../../testing/browserProject.ts';
import { type CredentialKind, mintCredential } from '../../testing/providerCredentials.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

/**
 * The conversation features once per provider (testing/providerCases.ts: PlayAI, OpenAI Realtime,
 * ElevenLabs…) in Chromium with the real audio engine, against one local agent speaking every
 * protocol (started by the global set-up): greeting, turn, barge-in, push-to-talk, drain, a
 * dropped connection, every end path and start/stop cycles. The microphone plays a 1 kHz tone
 * the agent's voice activity detector hears; the tests mute and unmute it to speak. Files run one
 * at a time (`browser.fileParallelism`): real audio on a 2-core machine, and one agent. (The
 * top-level `fileParallelism: false` would say the same, but vitest then moves the project out of
 * the Chromium group into a group of its own that runs after all the others.)
 */
const options = engineTestOptions('providers', 'chromium', tone(1000, 2, 48_000, 0.25));

export default defineConfig({
  plugins: [workspaceSources(), react()],
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['packages/react/test/providers/**/*.browser.test.{ts,tsx}'],
    testTimeout: 60_000,
    ...options,
    browser: {
      ...options.browser,
      fileParallelism: false,
      commands: {
        ...options.browser.commands,
        // The site's server mints the browser-safe credential (the key stays in Node).
        mintCredential: (
          _context: unknown,
          origin: string,
          kind: CredentialKind,
          target: string,
          query: string,
        ) => mintCredential(origin, kind, target, query),
      },
    },
    globalSetup: ['packages/react/test/providers/providersGlobalSetup.ts', ...options.globalSetup],
  },
});
