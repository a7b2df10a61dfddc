import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav16 } from './audio.ts';

/**
 * Fails with what to install when a command-line tool a test drives is missing: `npm test`
 * (scripts/setup.mjs) installs every one of them, so a missing tool is a broken set-up, never a
 * reason to skip.
 */
export function requireTool(command: string, versionArgs: string[], debianPackage: string): void {
  if (spawnSync(command, versionArgs).status !== 0) {
    throw new Error(
      `${command} is not installed: this test needs it (Debian package ${debianPackage}, installed by scripts/setup.mjs).`,
    );
  }
}

/** sox, with mp3 support when `format` is mp3. */
export function requireSox(format: 'mp3' | 'ogg' | 'flac' | 'wav'): void {
  requireTool('sox', ['--version'], 'sox');
  if (format !== 'mp3') return;
  const help = spawnSync('sox', ['-h']).stdout?.toString() ?? '';
  if (!/ mp3 /.test(help)) {
    throw new Error(
      'sox cannot read or write mp3: install the Debian package libsox-fmt-mp3 (scripts/setup.mjs does).',
    );
  }
}

/** `samples` (mono) encoded by sox, an encoder independent of ours, as an mp3, Ogg Vorbis or FLAC file. */
export function encodeWithSox(
  samples: Float32Array,
  sampleRate: number,
  format: 'mp3' | 'ogg' | 'flac',
): Uint8Array {
  requireSox(format);
  const dir = mkdtempSync(join(tmpdir(), 'voicewire-sox-'));
  try {
    const input = join(dir, 'in.wav');
    const output = join(dir, `out.${format}`);
    writeFileSync(input, encodeWav16(samples, sampleRate));
    execFileSync('sox', ['-V1', input, output], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(output));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
