import type { TranscriptTurn } from '@voicewire/core';
import { createTestConversation } from '@voicewire/core/testing';
import { describe, expect, it } from 'vitest';
import {
  applyTranscript,
  interruptAgentTurn,
  mergeTranscript,
  wordPrefix,
} from '../../src/conversation/transcript.ts';

function ids() {
  let n = 0;
  return () => `t${++n}`;
}

describe('mergeTranscript', () => {
  it('starts a new turn when the role changes', () => {
    const next = ids();
    let turns: TranscriptTurn[] = [];
    turns = mergeTranscript(turns, 'user', 'Hello', next);
    turns = mergeTranscript(turns, 'agent', 'Hi!', next);
    turns = mergeTranscript(turns, 'user', 'Bye', next);
    expect(turns.map((t) => [t.id, t.role, t.text])).toEqual([
      ['t1', 'user', 'Hello'],
      ['t2', 'agent', 'Hi!'],
      ['t3', 'user', 'Bye'],
    ]);
  });

  it('a message that extends the last text of the same role replaces it', () => {
    const next = ids();
    let turns = mergeTranscript([], 'user', 'What is', next);
    turns = mergeTranscript(turns, 'user', 'What is the time', next);
    expect(turns).toEqual([{ id: 't1', role: 'user', text: 'What is the time', interrupted: false }]);
  });

  it('any other message of the same role is appended with a space', () => {
    const next = ids();
    let turns = mergeTranscript([], 'agent', 'It is noon.', next);
    turns = mergeTranscript(turns, 'agent', 'Anything else?', next);
    expect(turns).toEqual([
      { id: 't1', role: 'agent', text: 'It is noon. Anything else?', interrupted: false },
    ]);
    turns = mergeTranscript(turns, 'agent', ' Bye.', next);
    expect(turns[0]?.text).toBe('It is noon. Anything else? Bye.');
  });

  it('returns the same array when nothing changes (a repeat, or empty text)', () => {
    const next = ids();
    const turns = mergeTranscript([], 'user', 'Hi', next);
    expect(mergeTranscript(turns, 'user', 'Hi', next)).toBe(turns);
    expect(mergeTranscript(turns, 'user', '   ', next)).toBe(turns);
    expect(mergeTranscript(turns, 'agent', '', next)).toBe(turns);
  });

  it('is immutable: a new array, a new object for the changed turn only', () => {
    const next = ids();
    const a = mergeTranscript(mergeTranscript([], 'user', 'Hi', next), 'agent', 'Hel', next);
    const b = mergeTranscript(a, 'agent', 'Hello', next);
    expect(b).not.toBe(a);
    expect(b[0]).toBe(a[0]);
    expect(b[1]).not.toBe(a[1]);
    expect(a[1]?.text).toBe('Hel');
  });

  it('after an interrupted agent turn, the agent starts a new turn', () => {
    const next = ids();
    let turns = mergeTranscript([], 'agent', 'Once upon a time there was', next);
    turns = interruptAgentTurn(turns, 'Once upon a time');
    turns = mergeTranscript(turns, 'agent', 'Yes?', next);
    expect(turns).toEqual([
      { id: 't1', role: 'agent', text: 'Once upon a time', interrupted: true },
      { id: 't2', role: 'agent', text: 'Yes?', interrupted: false },
    ]);
  });
});

describe('interruptAgentTurn', () => {
  it('truncates the last agent turn even when a user turn follows it', () => {
    const next = ids();
    let turns = mergeTranscript([], 'agent', 'The answer is forty two', next);
    turns = mergeTranscript(turns, 'user', 'Stop', next);
    const after = interruptAgentTurn(turns, 'The answer');
    expect(after).toEqual([
      { id: 't1', role: 'agent', text: 'The answer', interrupted: true },
      { id: 't2', role: 'user', text: 'Stop', interrupted: false },
    ]);
    expect(after[1]).toBe(turns[1]);
  });

  it('does nothing without an agent turn, or when already applied', () => {
    const next = ids();
    const turns = mergeTranscript([], 'user', 'Hi', next);
    expect(interruptAgentTurn(turns, 'x')).toBe(turns);
    const once = interruptAgentTurn(mergeTranscript(turns, 'agent', 'Yes', next), undefined);
    expect(interruptAgentTurn(once, undefined)).toBe(once);
  });
});

describe('transcript in the store', () => {
  it('streams partial user transcripts into one turn and notifies once per change', async () => {
    const { conversation, server } = createTestConversation();
    await conversation.start();
    const seen: TranscriptTurn[][] = [];
    conversation.store.subscribe((state, previous) => {
      if (state.transcript !== previous.transcript) seen.push(state.transcript);
    });
    server.serverSend({ type: 'onUserTranscript', message: 'Book a' });
    server.serverSend({ type: 'onUserTranscript', message: 'Book a table' });
    server.serverSend({ type: 'onUserTranscript', message: 'Book a table' });
    server.serverSend({ type: 'onUserTranscript', message: 'for two.' });
    server.serverSend({ type: 'onAgentGreeting', message: 'Sure.' });
    expect(seen.map((t) => t.map((turn) => turn.text))).toEqual([
      ['Book a'],
      ['Book a table'],
      ['Book a table for two.'],
      ['Book a table for two.', 'Sure.'],
    ]);
    await conversation.stop();
  });

  it('keeps the transcript after the conversation ends', async () => {
    const { conversation, server } = createTestConversation();
    await conversation.start();
    server.greet('Welcome');
    server.hangup();
    expect(conversation.store.getState().transcript.map((t) => t.text)).toEqual(['Welcome']);
  });
});

describe('applyTranscript: the pieces providers send', () => {
  const ids = () => {
    let n = 0;
    return () => `t${++n}`;
  };

  it('deltas build one turn as they come (no spaces added); a new reply starts a new turn', () => {
    const next = ids();
    let turns: TranscriptTurn[] = [];
    for (const text of ['Hel', 'lo', ' there.'])
      turns = applyTranscript(turns, { role: 'agent', text, mode: 'delta' }, next);
    expect(turns).toEqual([{ id: 't1', role: 'agent', text: 'Hello there.', interrupted: false }]);
    // The settled transcript of the same reply changes nothing; a new reply is a new turn.
    const same = applyTranscript(turns, { role: 'agent', text: 'Hello there.', mode: 'final' }, next);
    expect(same).toBe(turns);
    turns = applyTranscript(same, { role: 'agent', text: 'Again', mode: 'delta', newTurn: true }, next);
    expect(turns.map((t) => t.text)).toEqual(['Hello there.', 'Again']);
  });

  it('partials revise the unsettled end; a final settles it; the next partial follows it', () => {
    const next = ids();
    let turns: TranscriptTurn[] = [];
    turns = applyTranscript(turns, { role: 'user', text: 'I want to', mode: 'partial' }, next);
    turns = applyTranscript(turns, { role: 'user', text: 'I wanted two', mode: 'partial' }, next);
    expect(turns.map((t) => t.text)).toEqual(['I wanted two']);
    turns = applyTranscript(turns, { role: 'user', text: 'I wanted two tickets.', mode: 'final' }, next);
    turns = applyTranscript(turns, { role: 'user', text: 'For', mode: 'partial' }, next);
    turns = applyTranscript(turns, { role: 'user', text: 'For Friday.', mode: 'final' }, next);
    expect(turns).toEqual([
      { id: 't1', role: 'user', text: 'I wanted two tickets. For Friday.', interrupted: false },
    ]);
  });

  it('an interrupted turn keeps the share of its words the user heard, cut back to a whole word', () => {
    const turns: TranscriptTurn[] = [
      { id: 't1', role: 'agent', text: 'One two three four five six', interrupted: false },
    ];
    expect(interruptAgentTurn(turns, undefined, 0.5)[0]).toMatchObject({
      text: 'One two three',
      interrupted: true,
    });
    expect(interruptAgentTurn(turns, undefined, 0)[0]?.text).toBe('');
    expect(interruptAgentTurn(turns, undefined, 1)[0]?.text).toBe('One two three four five six');
    // What the server says was spoken wins.
    expect(interruptAgentTurn(turns, 'One two', 0.9)[0]?.text).toBe('One two');
    expect(wordPrefix('Hello wonderful world', 0.3)).toBe('Hello');
  });
});
