import type { ConversationMode } from '@voicewire/core';
import { describe, expect, it } from 'vitest';
import { nextMode, nextTurn, type TurnEvent, type TurnState } from '../../src/conversation/turnTaking.ts';

const MODES: ConversationMode[] = ['listening', 'userSpeaking', 'thinking', 'agentSpeaking'];
const EVENTS: TurnEvent[] = [
  'reset',
  'userSpeechStarted',
  'userSpeechEnded',
  'replyStarted',
  'replyEnded',
  'audioStarted',
  'audioDrained',
  'drainGraceElapsed',
  'audioResumed',
  'connectionLost',
];

type Row = [event: TurnEvent, from: Partial<TurnState>, to: Partial<TurnState> | 'same'];

/**
 * Every transition, as the table in turnTaking.ts states it. For each event the rows are tried
 * in order and the first whose `from` matches applies; `to` lists what changes (`'same'`:
 * nothing). Every state × event pair must be covered by a row.
 */
const TABLE: Row[] = [
  ['reset', {}, { mode: 'listening', replyEnded: false, drainPending: false, resumable: false }],

  ['userSpeechStarted', {}, { mode: 'userSpeaking', drainPending: false, resumable: false }],

  ['userSpeechEnded', { mode: 'agentSpeaking' }, 'same'],
  ['userSpeechEnded', {}, { mode: 'thinking' }],

  ['replyStarted', {}, { replyEnded: false, drainPending: false, resumable: false }],

  [
    'replyEnded',
    { mode: 'agentSpeaking', drainPending: true },
    { mode: 'listening', replyEnded: true, drainPending: false },
  ],
  ['replyEnded', { drainPending: true }, { replyEnded: true, drainPending: false }],
  ['replyEnded', {}, { replyEnded: true }],

  ['audioStarted', {}, { mode: 'agentSpeaking' }],

  ['audioDrained', { mode: 'agentSpeaking', replyEnded: true }, { mode: 'listening' }],
  ['audioDrained', { mode: 'agentSpeaking' }, { drainPending: true }],
  ['audioDrained', {}, 'same'],

  [
    'drainGraceElapsed',
    { mode: 'agentSpeaking', drainPending: true },
    { mode: 'listening', drainPending: false, resumable: true },
  ],
  ['drainGraceElapsed', { drainPending: true }, { drainPending: false }],
  ['drainGraceElapsed', {}, 'same'],

  [
    'audioResumed',
    { mode: 'listening', resumable: true },
    { mode: 'agentSpeaking', drainPending: false, resumable: false },
  ],
  ['audioResumed', {}, { drainPending: false, resumable: false }],

  ['connectionLost', { mode: 'agentSpeaking' }, 'same'],
  ['connectionLost', {}, { mode: 'listening' }],
];

function allStates(): TurnState[] {
  const states: TurnState[] = [];
  for (const mode of MODES)
    for (const replyEnded of [false, true])
      for (const drainPending of [false, true])
        for (const resumable of [false, true]) states.push({ mode, replyEnded, drainPending, resumable });
  return states;
}

function matches(state: TurnState, from: Partial<TurnState>): boolean {
  return (Object.keys(from) as (keyof TurnState)[]).every((key) => state[key] === from[key]);
}

describe('turn-taking', () => {
  it('every event from every state goes where the table says', () => {
    let checked = 0;
    for (const event of EVENTS) {
      for (const state of allStates()) {
        const row = TABLE.find(([e, from]) => e === event && matches(state, from));
        expect(row, `no row for ${event} from ${JSON.stringify(state)}`).toBeDefined();
        const to = row?.[2];
        const expected = to === 'same' ? state : { ...state, ...to };
        expect(nextTurn(state, event), `${event} from ${JSON.stringify(state)}`).toEqual(expected);
        checked++;
      }
    }
    expect(checked).toBe(EVENTS.length * 32);
  });

  it('returns the same object when nothing changes, so no update is written', () => {
    const state: TurnState = {
      mode: 'agentSpeaking',
      replyEnded: false,
      drainPending: false,
      resumable: false,
    };
    expect(nextTurn(state, 'userSpeechEnded')).toBe(state);
    expect(nextTurn(state, 'connectionLost')).toBe(state);
    expect(nextTurn({ ...state, mode: 'thinking' }, 'audioDrained')).not.toBe(state);
  });

  it('nextMode: a whole reply, with a barge-in, as the user sees it', () => {
    const modes: ConversationMode[] = [];
    let mode: ConversationMode = 'listening';
    for (const event of [
      'userSpeechStarted',
      'userSpeechEnded',
      'audioStarted',
      'userSpeechStarted',
    ] as const) {
      mode = nextMode(mode, event);
      modes.push(mode);
    }
    expect(modes).toEqual(['userSpeaking', 'thinking', 'agentSpeaking', 'userSpeaking']);
  });

  it('a drain mid-reply waits for the grace period, and more audio resumes the reply', () => {
    let turn = nextTurn(
      nextTurn(
        nextTurn(
          { mode: 'listening', replyEnded: false, drainPending: false, resumable: false },
          'replyStarted',
        ),
        'audioStarted',
      ),
      'audioDrained',
    );
    expect(turn).toMatchObject({ mode: 'agentSpeaking', drainPending: true });
    turn = nextTurn(turn, 'drainGraceElapsed');
    expect(turn).toMatchObject({ mode: 'listening', resumable: true });
    turn = nextTurn(turn, 'audioResumed');
    expect(turn).toMatchObject({ mode: 'agentSpeaking', resumable: false });
    turn = nextTurn(nextTurn(turn, 'replyEnded'), 'audioDrained');
    expect(turn.mode).toBe('listening');
  });
});
