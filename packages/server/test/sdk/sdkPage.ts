/**
 * A test page for PlayAI's published browser SDK, unmodified. Everything the page loads comes
 * from npm packages on this machine; nothing reaches the network:
 *
 * - the page and the SDK's own bundle (`dist/index.mjs`, self-contained), from a small HTTP
 *   server on 127.0.0.1 (a page on loopback may open sockets to loopback: Chromium's local
 *   network access checks refuse that to a page of unknown origin);
 * - by request interception, the two files the SDK fetches from its CDN at start: the Silero VAD model
 *   (`https://play.ai/silero_vad.onnx`, served from `@ricky0123/vad-web`'s
 *   `silero_vad_legacy.onnx`, the same model) and the ONNX runtime's WASM
 *   (`https://play.ai/ort/ort-wasm*.wasm`, from `onnxruntime-web` at the SDK's own version).
 *
 * The only change to the SDK's world is the origin of its socket: a wrapped `window.WebSocket`
 * sends `wss://api.play.ai/...` to the local agent, path and all. An analyser is tapped onto every
 * node that plays to the speakers, so a test can read the level of what the user would hear.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright';

/** A dev dependency of @voicewire/server, as installed (some hide package.json from `exports`). */
function packageDir(name: string): string {
  return fileURLToPath(new URL(`../../node_modules/${name}/`, import.meta.url));
}

function sdkBundlePath(): string {
  return join(packageDir('@play-ai/agent-web-sdk'), 'dist', 'index.mjs');
}

/** What the page's routes served and refused. */
export interface RouteLog {
  served: string[];
  /** Requests for anything else: each one would have left the machine. */
  refused: string[];
}

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>PlayAI SDK against the local agent</title></head>
<body><script type="module">
  import { connectAgent } from '/sdk.mjs';
  window.connectAgent = connectAgent;
  window.sdkLoaded = true;
</script></body></html>`;

/** The page and the SDK bundle on `http://127.0.0.1:PORT/` (a secure context: loopback). */
export async function serveSdkPage(): Promise<{ origin: string; close(): Promise<void> }> {
  const sdk = readFileSync(sdkBundlePath());
  const server: Server = createServer((request, response) => {
    if (request.url === '/')
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    else if (request.url === '/sdk.mjs')
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Routes for the SDK's CDN files; requests to `pageOrigin` go through; anything else is refused
 * and logged. Must be set before the page loads anything.
 */
export async function routeSdkPage(context: BrowserContext, pageOrigin: string): Promise<RouteLog> {
  const log: RouteLog = { served: [], refused: [] };
  const ortDist = join(packageDir('onnxruntime-web'), 'dist');
  const vadDist = join(packageDir('@ricky0123/vad-web'), 'dist');
  const files = new Map<string, { path: string; type: string }>([
    [
      'https://play.ai/silero_vad.onnx',
      { path: join(vadDist, 'silero_vad_legacy.onnx'), type: 'application/octet-stream' },
    ],
  ]);
  for (const name of [
    'ort-wasm.wasm',
    'ort-wasm-simd.wasm',
    'ort-wasm-threaded.wasm',
    'ort-wasm-simd-threaded.wasm',
  ]) {
    files.set(`https://play.ai/ort/${name}`, { path: join(ortDist, name), type: 'application/wasm' });
  }
  await context.route('**/*', async (route) => {
    const url = route.request().url().split('?')[0]!;
    if (url.startsWith(`${pageOrigin}/`)) {
      log.served.push(url);
      await route.continue();
      return;
    }
    const file = files.get(url);
    if (!file) {
      log.refused.push(route.request().url());
      await route.abort('blockedbyclient');
      return;
    }
    log.served.push(url);
    await route.fulfill({
      status: 200,
      headers: { 'content-type': file.type, 'access-control-allow-origin': '*' },
      body: readFileSync(file.path),
    });
  });
  return log;
}

/**
 * Before any script of the page: move the SDK's socket to `agentOrigin` (keeping its path, and
 * adding `query` to it), and tap the speakers. `window.outputLevels` collects the RMS of what
 * plays, every 20 ms, with its time (`performance.now()`).
 */
export async function instrumentSdkPage(page: Page, agentOrigin: string, query = ''): Promise<void> {
  await page.addInitScript(
    ({ agentOrigin, query }) => {
      const NativeWebSocket = window.WebSocket;
      class MovedWebSocket extends NativeWebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          const target = new URL(String(url));
          if (target.host === 'api.play.ai') {
            const search = target.search ? `${target.search}&${query}` : query ? `?${query}` : '';
            super(`${agentOrigin}${target.pathname}${search}`, protocols);
          } else super(url, protocols);
        }
      }
      window.WebSocket = MovedWebSocket;

      const analysers: AnalyserNode[] = [];
      const connect = AudioNode.prototype.connect as (this: AudioNode, ...args: unknown[]) => unknown;
      AudioNode.prototype.connect = function (this: AudioNode, ...args: unknown[]) {
        const result = connect.apply(this, args);
        if (args[0] instanceof AudioDestinationNode) {
          const analyser = this.context.createAnalyser();
          analyser.fftSize = 1024;
          connect.call(this, analyser);
          analysers.push(analyser);
        }
        return result;
      } as typeof AudioNode.prototype.connect;
      const levels: { t: number; rms: number }[] = [];
      (window as unknown as { outputLevels: typeof levels }).outputLevels = levels;
      const buffer = new Float32Array(1024);
      setInterval(() => {
        let rms = 0;
        for (const analyser of analysers) {
          analyser.getFloatTimeDomainData(buffer);
          let sum = 0;
          for (const sample of buffer) sum += sample * sample;
          rms = Math.max(rms, Math.sqrt(sum / buffer.length));
        }
        levels.push({ t: performance.now(), rms });
      }, 20);
    },
    { agentOrigin, query },
  );
}
