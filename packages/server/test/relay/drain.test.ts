import { type Conversation, createConversation } from '@voicewire/core';
import { createFakeAudio, FakeAudioContext } from '@voicewire/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLocalAgent } from '../../src/agent/index.ts';
import { createSessionToken } from '../../src/relay/index.ts';
import { until } from './helpers.ts';
import { killProcess, startLoadBalancer, startRedisServer, startRelayProcess } from './processes.ts';

const apiKey = 'drain-real-key';
const secret = 'drain-secret';
const agentId = 'drain-agent';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// Two relay processes, Redis and a local agent start per test: on a loaded machine that alone
// takes tens of seconds, so the budget is generous (each wait inside is on a condition).
describe('graceful drain behind a load balancer', { timeout: 120_000 }, () => {
  for (const tokens of ['fresh single-use', 'one reusable'] as const)
    it(`SIGTERM during a live conversation: the client reconnects through the other instance and resumes it (${tokens} token${tokens === 'one reusable' ? ', one session per token' : 's'})`, async () => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      const agent = await startLocalAgent({ port: 0, apiKeys: [apiKey], log: false });
      cleanups.push(() => agent.close());
      const args = ['--upstream', agent.url, '--redis', redis.url, '--drain-ms', '4000', '--quiet'];
      // With one session per token, the reconnect only gets in if the drained lease was released first.
      if (tokens === 'one reusable') args.push('--max-sessions-per-token', '1');
      const env = { VOICEWIRE_API_KEY: apiKey, VOICEWIRE_RELAY_SECRET: secret };
      const a = await startRelayProcess(args, env);
      cleanups.push(() => killProcess(a));
      const b = await startRelayProcess(args, env);
      cleanups.push(() => killProcess(b));
      const balancer = await startLoadBalancer([a.port, b.port]);
      cleanups.push(() => balancer.close());

      const audio = createFakeAudio();
      const issued: string[] = [];
      const reusable = createSessionToken({ secret, agentId, ttlSeconds: 60 });
      const conversation: Conversation = createConversation({
        agentId,
        url: balancer.base,
        // What an integrator's backend does: a fresh single-use token for every connection; or one
        // token handed to the page once.
        getToken: () => {
          const token =
            tokens === 'one reusable'
              ? reusable
              : createSessionToken({ secret, agentId, ttlSeconds: 60, singleUse: true });
          issued.push(token);
          return token;
        },
        input: { encoding: 'linear16', sampleRate: 16000 },
        output: { format: 'mulaw', sampleRate: 16000 },
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        AudioContext: FakeAudioContext as unknown as typeof AudioContext,
        audio: audio.factories,
      });
      cleanups.push(() => conversation.stop());
      await conversation.start();
      await until(() => conversation.store.getState().status === 'connected');
      const conversationId = conversation.store.getState().conversationId;
      expect(conversationId).toEqual(expect.any(String));
      // The greeting plays: the conversation is live through instance A.
      await until(() => (audio.player?.enqueued.length ?? 0) > 0);
      expect(balancer.routed).toEqual([a.port]);
      expect((await health(a.port)).body).toMatchObject({ status: 'ok', sessions: 1, store: 'redis' });

      a.child.kill('SIGTERM');
      // Draining: A tells the balancer to stop sending it connections, and the call goes on meanwhile.
      let drainingHealth = await health(a.port).catch(() => null);
      while (drainingHealth?.status === 200) drainingHealth = await health(a.port).catch(() => null);
      expect(drainingHealth).toMatchObject({ status: 503, body: { status: 'draining', sessions: 1 } });
      expect(conversation.store.getState().status).toBe('connected');
      const sentBefore = conversation.getStats().framesSent;
      audio.capture?.emitFrames(10);
      expect(conversation.getStats().framesSent).toBe(sentBefore + 10);

      // After the drain period A closes the session with 1001 (going away) and exits; the client reconnects
      // through the balancer, which now routes to B, and the agent resumes the same conversation.
      expect(await a.exited).toBe(0);
      await until(() => conversation.getStats().reconnects === 1);
      await until(() => conversation.store.getState().status === 'connected');
      expect(balancer.routed).toEqual([a.port, b.port]);
      expect(conversation.store.getState().conversationId).toBe(conversationId);
      expect(conversation.store.getState().error).toBeNull();
      expect(issued).toHaveLength(2);
      if (tokens === 'fresh single-use') expect(issued[0]).not.toBe(issued[1]);
      expect((await health(b.port)).body).toMatchObject({ status: 'ok', sessions: 1 });

      // The resumed conversation carries on: the microphone's frames flow to the agent through B.
      const sentAfter = conversation.getStats().framesSent;
      audio.capture?.emitFrames(10);
      expect(conversation.getStats().framesSent).toBe(sentAfter + 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(conversation.store.getState().status).toBe('connected');
      await conversation.stop();
      let after = await health(b.port);
      while (after.body.sessions !== 0) after = await health(b.port);
      expect(after.status).toBe(200);
    });
});
