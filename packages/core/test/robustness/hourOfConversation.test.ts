import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A simulated hour through the real conversation controller: 180,000 microphone frames out,
 * 90,000 agent audio chunks in (half the hour spoken by the agent), 720 turns. Run in a child
 * process with --expose-gc so the heap is measured after full collections, away from vitest's
 * own allocations. Memory must stay flat apart from the transcript itself.
 */

const script = fileURLToPath(new URL('./hourOfConversation.script.ts', import.meta.url));

interface HourResult {
  samples: { second: number; heapUsed: number; transcriptChars: number; turns: number }[];
  framesSent: number;
  audioChunksIn: number;
  bytesPlayed: number;
  status: string;
  mode: string;
  turns: number;
  stats: { framesSent: number; framesDropped: number; reconnects: number };
}

function runHour(): Promise<HourResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', script],
      { timeout: 100_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HOUR_SECONDS: '3600' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as HourResult);
      },
    );
  });
}

describe('a simulated hour of conversation', () => {
  it('keeps memory flat apart from the transcript', async () => {
    const result = await runHour();
    // The hour really happened, through the library.
    expect(result.framesSent).toBe(180_000 + 1); // + the setup
    expect(result.stats.framesSent).toBe(180_000);
    expect(result.stats.framesDropped).toBe(0);
    expect(result.audioChunksIn).toBe(90_000);
    expect(result.bytesPlayed).toBe(90_000 * 320);
    expect(result.turns).toBe(720);
    expect(result.status).toBe('connected');
    expect(result.stats.reconnects).toBe(0);

    // From minute 5 (everything warmed up) to the end: growth bounded by what the transcript
    // holds (~2 bytes a char plus ~150 bytes per turn object, doubled for slack) plus 2 MB of
    // allocator noise. Keeping each mic frame (640 B × 165,000) or each agent message
    // (~450 B × 82,500) would be tens of megabytes.
    const [, warm] = result.samples;
    const last = result.samples.at(-1);
    if (!warm || !last) throw new Error('no samples');
    const transcriptGrowth =
      (last.transcriptChars - warm.transcriptChars) * 2 + (last.turns - warm.turns) * 150;
    const heapGrowth = last.heapUsed - warm.heapUsed;
    expect(heapGrowth).toBeLessThan(2 * transcriptGrowth + 2 * 1024 * 1024);
    // And no steady climb: every later sample stays within the same bound of minute 5.
    for (const sample of result.samples.slice(2)) {
      const allowed =
        2 * ((sample.transcriptChars - warm.transcriptChars) * 2 + (sample.turns - warm.turns) * 150) +
        2 * 1024 * 1024;
      expect(sample.heapUsed - warm.heapUsed).toBeLessThan(allowed);
    }
  }, 120_000);
});
