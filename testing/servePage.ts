import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { build } from 'esbuild';

export interface ServedPage {
  /** `http://127.0.0.1:PORT/`: the page, which loads the bundle as a module. */
  url: string;
  close(): Promise<void>;
}

/**
 * Bundles `entry` (a TypeScript module for the browser, importing the packages' sources) with
 * esbuild and serves it as a page on 127.0.0.1, as the browser journeys and the benchmark need:
 * production-like (minified, split), nothing fetched from the network.
 */
export async function servePage(entry: string, name: string): Promise<ServedPage> {
  const dir = mkdtempSync(join(tmpdir(), `voicewire-${name}-`));
  await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outdir: dir,
    entryNames: 'page',
    logLevel: 'silent',
    // Sources of the workspace packages (their `@voicewire/source` export condition).
    conditions: ['@voicewire/source'],
  });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
  );
  const server = createServer((request, response) => {
    const path = request.url === '/' ? '/index.html' : (request.url ?? '/').split('?')[0]!;
    try {
      const body = readFileSync(join(dir, path));
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }[
        extname(path)
      ];
      response.writeHead(200, { 'content-type': type ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
