import { defineConfig } from 'vitest/config';
import { besideEngineGroup } from '../../testing/browserProject.ts';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Compatibility with the vendors' own SDKs, pinned and unmodified, each holding a conversation with
// the local agent over a real socket: PlayAI's (@play-ai/agent-web-sdk) and ElevenLabs'
// (@elevenlabs/client) in Debian's headless Chromium with a fake microphone; OpenAI's
// (@openai/agents-realtime), Google's (@google/genai), Deepgram's (@deepgram/sdk) and Hume's (hume)
// in Node with a microphone paced at real time. One file, one browser at a time, beside the WebKit
// browser projects (testing/browserProject.ts), which WebDriver runs one at a time: without a
// group of its own a one-file-at-a-time project would run after all the others, alone.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'sdk',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['packages/server/test/sdk/**/*.test.ts'],
    fileParallelism: false,
    ...besideEngineGroup('webkit'),
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A real browser or SDK on a loaded machine: a poll that names no bound waits up to 20 s
    // (Vitest's default, 1 s, is sized for a quiet one).
    expect: { poll: { timeout: 20_000 } },
  },
});
