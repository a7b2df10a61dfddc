import { startLocalAgent } from '@voicewire/server';
import type { TestProject } from 'vitest/node';
import { LOCAL_AGENT_KEY } from '../../../../testing/providerCredentials.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local agent's origin, `ws://127.0.0.1:PORT`: every protocol's path is under it. */
    providersAgentOrigin: string;
    /** What the agent says first, on every protocol. */
    providersGreeting: string;
  }
}

/** Long enough to be interrupted mid-sentence, short enough to be heard in full many times. */
const GREETING = 'Hello! I am the local agent, speaking every protocol. Say something.';

/**
 * One local agent for the whole project, speaking every provider's protocol on one port; it
 * accepts only the key a site's server holds (the page gets minted credentials). A short
 * silence ends a turn, to keep the suites quick.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const agent = await startLocalAgent({
    port: 0,
    host: '127.0.0.1',
    log: false,
    apiKeys: [LOCAL_AGENT_KEY],
    silenceMs: 400,
    greeting: GREETING,
  });
  project.provide('providersAgentOrigin', agent.origin);
  project.provide('providersGreeting', GREETING);
  return () => agent.close();
}
