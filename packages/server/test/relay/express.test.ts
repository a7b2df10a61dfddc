import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createRelay, createSessionToken } from '../../src/relay/index.ts';
import { connectClient, startRecordingUpstream, until } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('relay mounted on Express', () => {
  it('shares the port with the app: the token route over HTTP, the relay over WebSocket', async () => {
    const upstream = await startRecordingUpstream();
    cleanups.push(() => upstream.close());
    const secret = 'express-secret';
    const relay = createRelay({ upstream: upstream.url, apiKey: 'express-key', secret, log: false });
    const app = express();
    // The integrator's own backend route that mints tokens.
    app.get('/api/voice-token', (req, res) => {
      const token = createSessionToken({ secret, agentId: String(req.query.agentId), ttlSeconds: 60 });
      res.set('cache-control', 'no-store').json({ token });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    relay.attach(server);
    cleanups.push(async () => {
      await relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;

    const { token } = (await (
      await fetch(`http://127.0.0.1:${port}/api/voice-token?agentId=ex-agent`)
    ).json()) as {
      token: string;
    };
    const client = connectClient(`ws://127.0.0.1:${port}/v1/talk/ex-agent?token=${token}`);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'setup', outputFormat: 'wav' }));
    const connection = await upstream.nextConnection();
    await until(() => connection.received.length === 1);
    expect(JSON.parse(connection.received[0] as string)).toEqual({
      type: 'setup',
      outputFormat: 'wav',
      apiKey: 'express-key',
    });
    connection.socket.send(JSON.stringify({ type: 'init', conversationId: 'c-express' }));
    expect(JSON.parse((await client.waitForMessages(1))[0] as string)).toEqual({
      type: 'init',
      conversationId: 'c-express',
    });
    client.socket.close(1000);
    expect((await connection.closed).code).toBe(1000);
  });
});
