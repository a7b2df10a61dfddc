/**
 * A test page for ElevenLabs' published browser SDK (`@elevenlabs/client`), unmodified: its own
 * browser bundle (`dist/lib.iife.js`, the web build with its worklets inlined, which puts
 * `ElevenLabsClient` on `window`) served with the page from a small HTTP server on 127.0.0.1.
 * Nothing else may be fetched: any other request is refused and logged (the SDK would fetch a
 * resampler from a CDN if the browser could not open an AudioContext at the stream's rate).
 *
 * An analyser is tapped onto every node that plays out (to the speakers or, as this SDK does, to
 * a MediaStream for its audio element), so a test can read the level of what the user would hear.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright';

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>ElevenLabs SDK against the local agent</title></head>
<body><script src="/elevenlabs.js"></script>
<script>window.sdkLoaded = typeof window.ElevenLabsClient === 'object';</script></body></html>`;

export async function serveElevenLabsPage(): Promise<{ origin: string; close(): Promise<void> }> {
  const sdk = readFileSync(
    fileURLToPath(new URL('../../node_modules/@elevenlabs/client/dist/lib.iife.js', import.meta.url)),
  );
  const server: Server = createServer((request, response) => {
    if (request.url === '/')
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
    else if (request.url === '/elevenlabs.js')
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

/** Requests to the page's origin go through; anything else is refused and listed. */
export async function routeElevenLabsPage(context: BrowserContext, pageOrigin: string): Promise<string[]> {
  const refused: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${pageOrigin}/`)) {
      await route.continue();
      return;
    }
    refused.push(url);
    await route.abort('blockedbyclient');
  });
  return refused;
}

/**
 * Before any script of the page: tap what plays out. `window.outputLevels` collects the RMS of
 * it every 20 ms, with its time (`performance.now()`).
 */
export async function tapOutput(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const analysers: AnalyserNode[] = [];
    const connect = AudioNode.prototype.connect as (this: AudioNode, ...args: unknown[]) => unknown;
    AudioNode.prototype.connect = function (this: AudioNode, ...args: unknown[]) {
      const result = connect.apply(this, args);
      if (args[0] instanceof AudioDestinationNode || args[0] instanceof MediaStreamAudioDestinationNode) {
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
  });
}
