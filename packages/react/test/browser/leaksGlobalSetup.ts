import { startLocalAgent } from '@voicewire/server';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local agent's talk URL, `ws://127.0.0.1:PORT/v1/talk`. */
    leaksAgentUrl: string;
  }
}

/** One real local agent (in Node) for the browser robustness tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const agent = await startLocalAgent({ port: 0, host: '127.0.0.1', log: false });
  project.provide('leaksAgentUrl', agent.url);
  return () => agent.close();
}
