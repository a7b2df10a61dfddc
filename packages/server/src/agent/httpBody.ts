/** Small helpers for the plain HTTP the dialects answer (minting browser-safe credentials). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext } from './dialect.ts';

/** A request body, up to `limit` bytes; rejects past that (the rest is drained unread). */
export function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        // Drain the rest unread, so the answer can still go out on this connection.
        reject(new Error('body too large'));
        return;
      }
      parts.push(part);
    });
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', reject);
  });
}

/** Answer with a JSON body and the agent's CORS headers. */
export function sendJson(response: ServerResponse, agent: HttpContext, status: number, body: unknown): void {
  if (response.headersSent) return;
  response
    .writeHead(status, { ...agent.headers, 'content-type': 'application/json' })
    .end(JSON.stringify(body));
}

/** 426 for a plain GET of a WebSocket path, saying where to connect. */
export function upgradeRequired(response: ServerResponse, agent: HttpContext, hint: string): void {
  response
    .writeHead(426, { ...agent.headers, 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
    .end(`This is a WebSocket endpoint: connect to ${hint}.\n`);
}
