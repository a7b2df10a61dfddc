import type { ConversationStatus } from '@voicewire/core';
import { describe, expect, it } from 'vitest';
import { isLiveStatus, type LifecycleEvent, nextStatus } from '../../src/conversation/lifecycle.ts';

const STATUSES: ConversationStatus[] = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'ending',
  'ended',
  'error',
];
const EVENTS: LifecycleEvent[] = ['start', 'ready', 'connectionLost', 'drain', 'end', 'fail'];

type Row = [event: LifecycleEvent, from: ConversationStatus[] | 'any', to: ConversationStatus | 'same'];

/**
 * Every transition of the lifecycle `status`, as the table in lifecycle.ts states it. For each
 * event the rows are tried in order and the first whose `from` holds the status applies. Every
 * status × event pair must be covered by a row, and the function must agree with the table.
 */
const TABLE: Row[] = [
  ['start', ['idle', 'ended', 'error'], 'connecting'],
  ['start', 'any', 'same'],
  ['ready', ['connecting', 'reconnecting', 'connected'], 'connected'],
  ['ready', 'any', 'same'],
  ['connectionLost', ['connecting', 'connected', 'reconnecting'], 'reconnecting'],
  ['connectionLost', 'any', 'same'],
  ['drain', ['connecting', 'connected', 'reconnecting'], 'ending'],
  ['drain', 'any', 'same'],
  ['end', ['idle'], 'same'],
  ['end', 'any', 'ended'],
  ['fail', 'any', 'error'],
];

function rowFor(status: ConversationStatus, event: LifecycleEvent): Row | undefined {
  return TABLE.find(([e, from]) => e === event && (from === 'any' || from.includes(status)));
}

describe('lifecycle: nextStatus', () => {
  it('covers every status × event pair with a row of the table', () => {
    for (const status of STATUSES)
      for (const event of EVENTS) expect(rowFor(status, event), `${status} × ${event}`).toBeDefined();
  });

  for (const status of STATUSES)
    for (const event of EVENTS)
      it(`${status} --${event}--> ${(() => {
        const to = rowFor(status, event)?.[2];
        return to === 'same' ? status : to;
      })()}`, () => {
        const to = rowFor(status, event)![2];
        expect(nextStatus(status, event)).toBe(to === 'same' ? status : to);
      });

  it('a call is live from connecting to ending', () => {
    expect(STATUSES.filter(isLiveStatus)).toEqual(['connecting', 'connected', 'reconnecting', 'ending']);
  });
});
