import { startLocalAgent } from '@voicewire/server';
import { expect, onTestFinished, test } from 'vitest';
import { watchInternalErrors } from '../../../../testing/internalErrors.ts';
import { connect } from './client.ts';

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const value = (depth: number): unknown => {
    switch (Math.floor(next() * 9)) {
      case 0:
        return null;
      case 1:
        return next() * 1e6 - 5e5;
      case 2:
        return pick([true, false]);
      case 3:
        return pick(['', 'AAAA', '////', '=', 'not base64!', '\u0000', 'é', 'A'.repeat(5000), '%%%']);
      case 4:
        return depth > 2 ? 1 : [value(depth + 1), value(depth + 1)];
      case 5:
        return depth > 2 ? 'x' : { a: value(depth + 1), type: value(depth + 1) };
      case 6:
        return pick([Number.MAX_SAFE_INTEGER, -1, 0, 8000, 96_000, 44_100.5]);
      case 7:
        return Buffer.from(
          Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)),
        ).toString('base64');
      default:
        return pick(['mp3', 'raw', 'linear16', 'mulaw', 'media-container', 'setup']);
    }
  };
  const frame = (): string | Buffer => {
    switch (Math.floor(next() * 6)) {
      case 0:
        return Buffer.from(Array.from({ length: Math.floor(next() * 32) }, () => Math.floor(next() * 256)));
      case 1:
        return pick([
          '',
          '{',
          'null',
          '[]',
          '"audioIn"',
          '{"type":',
          '{"type":null}',
          '{"__proto__":{"type":"setup"}}',
        ]);
      default: {
        const message: Record<string, unknown> = {
          type: pick([
            'audioIn',
            'audioIn',
            'audioIn',
            'customInput',
            'setup',
            'hello',
            '',
            'AUDIOIN',
            'constructor',
          ]),
        };
        for (const field of ['data', 'apiKey', 'outputFormat', 'inputSampleRate', 'extra']) {
          if (next() < 0.5) message[field] = value(0);
        }
        return JSON.stringify(message);
      }
    }
  };
  return { frame };
}

test.each([1, 2, 3])(
  'seed %i: 400 random frames after setup leave the session and the agent working',
  async (seed) => {
    // An exception the session catches is logged and answered with a 4500: neither may happen.
    const watch = watchInternalErrors();
    onTestFinished(() => watch.restore());
    const agent = await startLocalAgent({ port: 0, log: (line) => watch.log(line), silenceMs: 300 });
    try {
      const client = await connect(`${agent.url}/fuzz`);
      client.send({
        type: 'setup',
        apiKey: 'k',
        customGreeting: '',
        inputEncoding: 'linear16',
        inputSampleRate: 16_000,
        outputFormat: 'raw',
        outputSampleRate: 16_000,
      });
      await client.waitFor('init');
      const { frame } = random(seed);
      for (let i = 0; i < 400; i++) {
        const f = frame();
        client.ws.send(f, { binary: Buffer.isBuffer(f) });
      }
      // Every bad frame was answered, at most, with a non-fatal error; the session is still up.
      client.send({ type: 'customInput', data: 'are you alive' });
      // The random frames hold customInputs of their own (seed 2: "setup"), whose replies may come
      // first on a loaded machine: the answer is the transcript that quotes this one.
      let answer = await client.waitFor('onAgentTranscript');
      while (answer.message.message !== 'You wrote: are you alive')
        answer = await client.waitFor('onAgentTranscript', answer.index + 1);
      expect(answer.message.message).toBe('You wrote: are you alive');
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      for (const m of client.messages) {
        if (m.type === 'error') expect(m).toMatchObject({ code: 4400, isFatal: false });
      }
      await client.close();

      // And a first frame of garbage is answered with an error and a close, never a crash.
      const { frame: first } = random(seed + 100);
      for (let i = 0; i < 20; i++) {
        const c = await connect(`${agent.url}/fuzz`);
        const f = first();
        c.ws.send(f, { binary: Buffer.isBuffer(f) });
        // Whichever the frame earns: an error and a close, or (a random frame can be a valid
        // setup) a live session's init. Waited for, not timed: a loaded machine answers late.
        const closed = await Promise.race([
          c.closed,
          c.waitFor('init').then(
            () => null,
            () => new Promise<never>(() => {}),
          ),
        ]);
        if (closed === null) {
          expect(c.messages.some((m) => m.type === 'init')).toBe(true);
          await c.close();
        } else {
          expect(c.messages[0]?.type).toBe('error');
          expect(c.messages[0]?.code).not.toBe(4500);
        }
      }
      watch.expectNone();
    } finally {
      await agent.close();
    }
  },
);
