import type { VoicewireErrorKind } from '@voicewire/core';
import { describe, expect, test } from 'vitest';
import { friendlyError, statusNotice } from '../src/friendlyError.ts';

// Every kind the library can report; `satisfies` fails to compile when a kind is added to
// errors.ts and not here, so no error can fall through to the generic message unnoticed.
const KINDS = {
  unauthorized: true,
  'agent-not-found': true,
  'insufficient-credits': true,
  'invalid-parameters': true,
  'too-many-connections': true,
  'server-error': true,
  network: true,
  timeout: true,
  protocol: true,
  decode: true,
  'microphone-permission-denied': true,
  'microphone-not-found': true,
  'microphone-lost': true,
  'microphone-unavailable': true,
  'audio-context': true,
  unsupported: true,
  'invalid-options': true,
} satisfies Record<VoicewireErrorKind, true>;

const context = {
  server: 'ws://127.0.0.1:8787/v1/talk',
  target: 'agent “demo-agent”',
  outputFormat: 'mp3',
  usingToken: false,
};

describe('friendlyError', () => {
  test.each(Object.keys(KINDS) as VoicewireErrorKind[])('%s has its own message', (kind) => {
    const message = friendlyError({ kind, message: 'technical detail', fatal: true }, context);
    expect(message.title).not.toBe('Something went wrong.');
    expect(message.title.length).toBeGreaterThan(10);
    expect(message.hint.length).toBeGreaterThan(5);
  });

  test('the messages are distinct where the causes are', () => {
    const titles = new Set(
      (Object.keys(KINDS) as VoicewireErrorKind[]).map(
        (kind) => friendlyError({ kind, message: '', fatal: true }, context).title,
      ),
    );
    expect(titles.size).toBe(Object.keys(KINDS).length);
  });

  test('a refused credential names what was refused', () => {
    const error = { kind: 'unauthorized' as const, code: 1003, message: 'Invalid credentials', fatal: true };
    expect(friendlyError(error, context).title).toBe('The agent refused this API key.');
    expect(friendlyError(error, { ...context, usingToken: true }).title).toBe(
      'The agent refused this relay token.',
    );
  });

  test('an unknown agent or model is named as the service calls it', () => {
    const error = { kind: 'agent-not-found' as const, message: 'No such agent', fatal: true };
    expect(friendlyError(error, context)).toMatchObject({
      title: 'The service has no agent “demo-agent”.',
      hint: 'Check the agent in Settings.',
    });
    expect(friendlyError(error, { ...context, target: 'model “gpt-x”' })).toMatchObject({
      title: 'The service has no model “gpt-x”.',
      hint: 'Check the model in Settings.',
    });
  });

  test('retried errors read as warnings, not as the end', () => {
    const dropped = friendlyError({ kind: 'network', message: 'closed 1006', fatal: false }, context);
    expect(dropped.tone).toBe('warning');
    expect(dropped.hint).toMatch(/reconnecting/i);
    const unreachable = friendlyError({ kind: 'network', message: 'closed 1006', fatal: true }, context);
    expect(unreachable.tone).toBe('error');
    expect(unreachable.hint).toContain(context.server);
  });

  test('reconnecting is announced even without an error', () => {
    expect(statusNotice('reconnecting')?.title).toMatch(/reconnecting/i);
    expect(statusNotice('connected')).toBeNull();
  });
});
