import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('pnpm load -- --via relay (smoke)', { timeout: 90_000 }, () => {
  it('holds a few relayed sessions with two instances and Redis, and prints the figures', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@voicewire/source',
        'scripts/load.ts',
        '--via',
        'relay',
        '--instances',
        '2',
        '--sessions',
        '6',
        '--seconds',
        '1',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toMatch(
      /^through two relays \+ Redis: 6\/6 sessions held; [1-9]\d* frames sent, [1-9]\d* echoed back$/m,
    );
    expect(output).toMatch(/^ {2}5\/5 probes straight to the echo meanwhile: p50 [\d.]+ ms, p99 [\d.]+ ms$/m);
    expect(output).toMatch(/^ {2}relay 2: CPU \d+% of a core/m);
    expect(output).toMatch(
      /^relay: 6\/6 sessions held; added round-trip latency \(relayed minus probes\) p50 -?[\d.]+ ms, p99 -?[\d.]+ ms .*memory -?\d+ KB per session$/m,
    );
    expect(code, output).toBe(0);
  });
});
