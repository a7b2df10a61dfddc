import { defineConfig } from 'vitest/config';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// Compatibility with the vendors' own SDKs, pinned and unmodified, each holding a conversation with
// the local agent over a real socket: PlayAI's (@play-ai/agent-web-sdk) and ElevenLabs'
// (@elevenlabs/client) in Debian's headless Chromium with a fake microphone; OpenAI's
// (@openai/agents-realtime), Google's (@google/genai), Deepgram's (@deepgram/sdk) and Hume's (hume)
// in Node with a microphone paced at real time. One file, one browser at a time.
export default defineConfig({
  plugins: [workspaceSources()],
  test: {
    name: 'sdk',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['packages/server/test/sdk/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A real browser or SDK on a loaded machine: a poll that names no bound waits up to 20 s
    // (Vitest's default, 1 s, is sized for a quiet one).
    expect: { poll: { timeout: 20_000 } },
  },
});
