import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessionToken, sessionTokenId, verifySessionToken } from '../../src/relay/index.ts';

const secret = 'relay-secret-for-tests';
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('session tokens', () => {
  it('round-trips: a fresh token verifies for its agent', () => {
    const token = createSessionToken({ secret, agentId: 'Agent-1', ttlSeconds: 60, now });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const result = verifySessionToken(token, { secret, agentId: 'Agent-1', now: now + 59_000 });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.payload.a).toBe('Agent-1');
      expect(result.payload.exp - result.payload.iat).toBe(60);
    }
  });

  it('is compact enough for a URL query', () => {
    const token = createSessionToken({
      secret,
      agentId: 'Agent-XP5tVPa8GDWym6j',
      ttlSeconds: 300,
      origin: 'https://example.com',
    });
    expect(token.length).toBeLessThan(200);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('gives every token its own id, so sessions are counted per token', () => {
    const a = createSessionToken({ secret, agentId: 'A', now });
    const b = createSessionToken({ secret, agentId: 'A', now });
    expect(a).not.toBe(b);
  });

  it('refuses a missing token', () => {
    expect(verifySessionToken(undefined, { secret, agentId: 'A' })).toMatchObject({
      ok: false,
      reason: 'missing',
    });
    expect(verifySessionToken('', { secret, agentId: 'A' })).toMatchObject({ ok: false, reason: 'missing' });
  });

  it('refuses an expired token', () => {
    const token = createSessionToken({ secret, agentId: 'A', ttlSeconds: 60, now });
    expect(verifySessionToken(token, { secret, agentId: 'A', now: now + 60_000 })).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a token for another agent', () => {
    const token = createSessionToken({ secret, agentId: 'A', now });
    expect(verifySessionToken(token, { secret, agentId: 'B', now })).toMatchObject({
      ok: false,
      reason: 'wrong-agent',
    });
  });

  it('refuses a tampered payload even when it is well formed', () => {
    const token = createSessionToken({ secret, agentId: 'A', ttlSeconds: 60, now });
    const [body, signature] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    payload.a = 'B';
    payload.exp += 10_000;
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    expect(verifySessionToken(forged, { secret, agentId: 'B', now })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The token with the signature character at `index` replaced by the one whose 6 bits differ by `mask`. */
  function withSignatureChar(token: string, index: number, mask: number): string {
    const dot = token.indexOf('.');
    const at = dot + 1 + index;
    const value = ALPHABET.indexOf(token[at]!);
    return token.slice(0, at) + ALPHABET[value ^ mask] + token.slice(at + 1);
  }

  it('refuses a flipped signature bit and a token signed with another secret', () => {
    for (let i = 0; i < 200; i++) {
      const token = createSessionToken({ secret, agentId: 'A', now });
      // A character in the middle of the 43-character signature: all six of its bits are data.
      const flipped = withSignatureChar(token, 21, 0b000100);
      expect(flipped).not.toBe(token);
      expect(verifySessionToken(flipped, { secret, agentId: 'A', now })).toMatchObject({
        ok: false,
        reason: 'bad-signature',
      });
    }
    const other = createSessionToken({ secret: 'another-secret', agentId: 'A', now });
    expect(verifySessionToken(other, { secret, agentId: 'A', now })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a non-canonical encoding of the right signature', () => {
    // 32 signature bytes are 256 bits in 43 characters (258 bits): the last character's two low
    // bits are padding. Setting them spells the same bytes another way; only the canonical
    // spelling is a valid token.
    for (let i = 0; i < 200; i++) {
      const token = createSessionToken({ secret, agentId: 'A', now });
      const signature = token.slice(token.indexOf('.') + 1);
      expect(signature).toHaveLength(43);
      for (const mask of [0b01, 0b10, 0b11]) {
        const respelt = withSignatureChar(token, 42, mask);
        const sig = respelt.slice(respelt.indexOf('.') + 1);
        // The same bytes, so only strictness can refuse it.
        expect(Buffer.from(sig, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
        expect(verifySessionToken(respelt, { secret, agentId: 'A', now })).toMatchObject({
          ok: false,
          reason: 'bad-signature',
        });
      }
      expect(verifySessionToken(token, { secret, agentId: 'A', now }).ok).toBe(true);
    }
  });

  it('refuses malformed tokens without throwing', () => {
    for (const token of ['x', 'a.b.c', '.', 'abc.', '.abc', 'a b.c', '%%%.###', 'eyJ9.x'.repeat(1000)]) {
      const result = verifySessionToken(token, { secret, agentId: 'A', now });
      expect(result.ok).toBe(false);
    }
    // Validly signed but not our payload shape.
    const body = Buffer.from('"just a string"').toString('base64url');
    const signature = createHmac('sha256', secret).update(body).digest('base64url');
    expect(verifySessionToken(`${body}.${signature}`, { secret, agentId: 'A', now })).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('binds a token to an origin when asked', () => {
    const token = createSessionToken({ secret, agentId: 'A', origin: 'https://shop.example', now });
    expect(verifySessionToken(token, { secret, agentId: 'A', origin: 'https://shop.example', now }).ok).toBe(
      true,
    );
    expect(
      verifySessionToken(token, { secret, agentId: 'A', origin: 'https://evil.example', now }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-origin',
    });
    expect(verifySessionToken(token, { secret, agentId: 'A', now })).toMatchObject({
      ok: false,
      reason: 'wrong-origin',
    });
  });

  it('rejects bad minting options', () => {
    expect(() => createSessionToken({ secret: '', agentId: 'A' })).toThrow(/secret/);
    expect(() => createSessionToken({ secret, agentId: '' })).toThrow(/agentId/);
    expect(() => createSessionToken({ secret, agentId: 'A', ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });

  it('carries a chosen id and the single-use flag, both covered by the signature', () => {
    const token = createSessionToken({ secret, agentId: 'A', id: 'visitor-9', singleUse: true, now });
    expect(sessionTokenId(token)).toBe('visitor-9');
    const result = verifySessionToken(token, { secret, agentId: 'A', now });
    expect(result).toMatchObject({ ok: true, payload: { jti: 'visitor-9', su: 1 } });
    // A random id by default, and no flag.
    const plain = createSessionToken({ secret, agentId: 'A', now });
    expect(sessionTokenId(plain)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const plainResult = verifySessionToken(plain, { secret, agentId: 'A', now });
    expect(plainResult.ok && plainResult.payload).not.toHaveProperty('su');
    // Dropping the flag from the payload breaks the signature.
    const [body, signature] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    delete payload.su;
    const stripped = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    expect(verifySessionToken(stripped, { secret, agentId: 'A', now })).toMatchObject({
      reason: 'bad-signature',
    });
    expect(sessionTokenId('garbage')).toBeUndefined();
    expect(() => createSessionToken({ secret, agentId: 'A', id: '' })).toThrow(/id/);
  });

  it('accepts only the canonical spelling of the signature (no trailing-bit variants)', () => {
    const token = createSessionToken({ secret, agentId: 'A', now });
    const last = token.at(-1) as string;
    // The last of 43 base64url characters carries 4 bits; flipping its 2 unused bits decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    for (let low = 1; low < 4; low++) {
      const variant = `${token.slice(0, -1)}${alphabet[(index & ~3) | ((index + low) & 3)]}`;
      expect(variant).not.toBe(token);
      expect(verifySessionToken(variant, { secret, agentId: 'A', now })).toMatchObject({
        ok: false,
        reason: 'bad-signature',
      });
    }
    expect(verifySessionToken(token, { secret, agentId: 'A', now }).ok).toBe(true);
  });
});

describe('session token targets (agent, model, config, or none)', () => {
  it('binds a token to a target, the same field agentId always filled', () => {
    const byTarget = createSessionToken({ secret, target: 'gpt-realtime', now });
    const byAgent = createSessionToken({ secret, agentId: 'gpt-realtime', now });
    for (const token of [byTarget, byAgent]) {
      expect(verifySessionToken(token, { secret, target: 'gpt-realtime', now })).toMatchObject({
        ok: true,
        payload: { a: 'gpt-realtime' },
      });
      expect(verifySessionToken(token, { secret, agentId: 'gpt-realtime', now }).ok).toBe(true);
      expect(
        verifySessionToken(token, { secret, target: 'gpt-realtime-mini', targetNoun: 'model', now }),
      ).toEqual({ ok: false, reason: 'wrong-agent', message: 'The session token is for another model' });
    }
  });

  it('mints a token for no target only when asked (target: null); it opens any target', () => {
    const any = createSessionToken({ secret, target: null, now });
    const result = verifySessionToken(any, { secret, target: 'whatever', now });
    expect(result.ok).toBe(true);
    expect(result.ok && result.payload).not.toHaveProperty('a');
    expect(verifySessionToken(any, { secret, target: null, now }).ok).toBe(true);
    expect(() => createSessionToken({ secret })).toThrow(/`target` \(or `agentId`\) is required/);
    expect(() => createSessionToken({ secret, target: '' })).toThrow(/target/);
    expect(() => createSessionToken({ secret, target: 'a', agentId: 'b' })).toThrow(/give one/);
    expect(createSessionToken({ secret, target: 'a', agentId: 'a', now })).toEqual(expect.any(String));
  });

  it('refuses a bound token where there is no target to check it against (Deepgram)', () => {
    const bound = createSessionToken({ secret, target: 'agent', now });
    for (const options of [{ target: null }, {}]) {
      expect(verifySessionToken(bound, { secret, ...options, now })).toMatchObject({
        ok: false,
        reason: 'wrong-agent',
        message: expect.stringMatching(/cannot check; mint it with target: null/),
      });
    }
  });
});
