import type { TranscriptTurn } from './types.ts';

/**
 * Merge a transcript message into the turns. Returns the same array when nothing changed, so a
 * store update (and a React render) only happens on a real change; a changed turn is a new
 * object and untouched turns keep their identity (memoised rows stay memoised).
 *
 * - A different role than the last turn starts a new turn.
 * - The same role: a message that extends the last text (streaming partials) replaces it; a
 *   repeat changes nothing; anything else is appended with a space (a second sentence).
 * - An interrupted agent turn is closed: the agent's next words start a new turn.
 */
export function mergeTranscript(
  turns: TranscriptTurn[],
  role: TranscriptTurn['role'],
  text: string,
  nextId: () => string,
): TranscriptTurn[] {
  if (text.trim() === '') return turns;
  const last = turns[turns.length - 1];
  if (last === undefined || last.role !== role || last.interrupted) {
    return [...turns, { id: nextId(), role, text, interrupted: false }];
  }
  if (text === last.text) return turns;
  const merged = text.startsWith(last.text) ? text : joinText(last.text, text);
  return [...turns.slice(0, -1), { ...last, text: merged }];
}

/**
 * The agent was cut off: its last turn becomes the text actually spoken (when the server knows
 * it) and is marked interrupted.
 */
export function interruptAgentTurn(
  turns: TranscriptTurn[],
  updatedMessage: string | undefined,
): TranscriptTurn[] {
  let index = -1;
  for (let i = turns.length - 1; i >= 0; i--) {
    if (turns[i]?.role === 'agent') {
      index = i;
      break;
    }
  }
  const turn = turns[index];
  if (turn === undefined) return turns;
  const text = updatedMessage ?? turn.text;
  if (turn.interrupted && text === turn.text) return turns;
  const next = turns.slice();
  next[index] = { ...turn, text, interrupted: true };
  return next;
}

function joinText(a: string, b: string): string {
  if (a === '' || /\s$/.test(a) || /^\s/.test(b)) return a + b;
  return `${a} ${b}`;
}
