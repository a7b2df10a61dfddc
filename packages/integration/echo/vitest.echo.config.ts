import { defineConfig } from 'vitest/config';
import { ECHO_GROUP_ORDER, ENGINES, projectName } from '../../../testing/browserProject.ts';
import type { Engine } from '../../../testing/engines.ts';
import { workspaceSources } from '../../../testing/workspaceSources.ts';

/**
 * The echo suite in one engine (packages/integration/echo/): the agent's voice comes back into
 * the microphone (speakers, not headphones; testing/echoRig.ts), against the real local agent.
 * "echo" (Chromium), "echo-firefox", "echo-webkit": the file launches its own browser on its own
 * PulseAudio (and Xvfb for Chromium's window and WebKit), not the engines' global set-up of the
 * browser projects, so the projects share nothing.
 *
 * The three run at the same time, in a group of their own after every browser project
 * (`sequence.groupOrder`): a minute of the agent per engine is what the test asks for, and three
 * engines one after another would be three of them. Each is one worker (`maxWorkers` counts for
 * the group: one per engine).
 */
export function echoConfig(engine: Engine) {
  return defineConfig({
    plugins: [workspaceSources()],
    test: {
      name: projectName('echo', engine),
      root: new URL('../../..', import.meta.url).pathname,
      environment: 'node',
      include: ['packages/integration/echo/**/*.test.ts'],
      provide: { engine },
      sequence: { groupOrder: ECHO_GROUP_ORDER },
      maxWorkers: ENGINES.length,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}

export default echoConfig('chromium');
