import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The demo page, built and served by `vite preview` on 127.0.0.1 (ends with a slash). */
    webUrl: string;
    /** A scratch folder for the fake microphones' WAV files, removed after the run. */
    scratchDir: string;
  }
}

const configFile = new URL('../vite.config.ts', import.meta.url).pathname;

/**
 * Builds the demo once and serves the production bundle for every e2e file: what a visitor gets,
 * and no dev-server dependency optimisation that reloads the page halfway through a test.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outDir = mkdtempSync(join(tmpdir(), 'voicewire-web-'));
  const scratchDir = mkdtempSync(join(tmpdir(), 'voicewire-e2e-'));
  project.provide('scratchDir', scratchDir);
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
  const server = await preview({
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address() as AddressInfo;
  project.provide('webUrl', `http://127.0.0.1:${address.port}/`);
  return async () => {
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(scratchDir, { recursive: true, force: true });
  };
}
