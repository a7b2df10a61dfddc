import type { TranscriptTurn } from './types.ts';

/**
 * The transcript's turns, changed immutably: a function returns the same array when nothing
 * changed, so a store update (and a React render) only happens on a real change; a changed turn
 * is a new object and untouched turns keep their identity (memoised rows stay memoised).
 */

/**
 * A turn whose text ends in a revisable guess (a `partial` transcript): how much of its text is
 * settled. Kept beside the turns, not in them: the turn objects stay what the store shows.
 */
const settledLength = new WeakMap<TranscriptTurn, number>();

export interface TranscriptUpdate {
  role: TranscriptTurn['role'];
  text: string;
  /** `delta`: appended as it is; `partial`: replaces the unsettled end; `final`: settles it. */
  mode: 'delta' | 'partial' | 'final';
  /** Starts a new turn even after a turn of the same role (a new reply). */
  newTurn?: boolean;
}

/** Apply one piece of transcript (providers/types.ts, the `transcript` event). */
export function applyTranscript(
  turns: TranscriptTurn[],
  update: TranscriptUpdate,
  nextId: () => string,
): TranscriptTurn[] {
  const { role, text, mode } = update;
  const last = turns[turns.length - 1];
  const open = last !== undefined && last.role === role && !last.interrupted && update.newTurn !== true;
  if (mode === 'final' && !(open && settledLength.has(last))) {
    if (update.newTurn === true && text.trim() !== '') {
      return [...turns, { id: nextId(), role, text, interrupted: false }];
    }
    return mergeTranscript(turns, role, text, nextId);
  }
  if (mode === 'delta' && text === '') return turns;
  if (mode !== 'delta' && text.trim() === '' && !(open && settledLength.has(last))) return turns;
  if (!open) {
    const turn: TranscriptTurn = {
      id: nextId(),
      role,
      text: mode === 'delta' ? text.trimStart() : text,
      interrupted: false,
    };
    if (mode === 'partial') settledLength.set(turn, 0);
    return [...turns, turn];
  }
  const settled = settledLength.get(last) ?? last.text.length;
  const head = last.text.slice(0, settled);
  const merged = mode === 'delta' ? last.text + text : joinText(head, text);
  if (merged === last.text && mode !== 'final') return turns;
  const turn: TranscriptTurn = { ...last, text: merged };
  if (mode === 'partial') settledLength.set(turn, settled);
  return [...turns.slice(0, -1), turn];
}

/**
 * Merge a whole transcript message into the turns (PlayAI's transcripts are whole sentences).
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
 * it), or the share of it the user heard (`heardShare`, 0..1, from the player's played position:
 * cut back to a whole word), and is marked interrupted.
 */
export function interruptAgentTurn(
  turns: TranscriptTurn[],
  spokenText: string | undefined,
  heardShare?: number,
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
  const text =
    spokenText ??
    (heardShare === undefined || turn.interrupted ? turn.text : wordPrefix(turn.text, heardShare));
  if (turn.interrupted && text === turn.text) return turns;
  const next = turns.slice();
  next[index] = { ...turn, text, interrupted: true };
  return next;
}

/** The first `share` of `text`, cut back to a whole word. */
export function wordPrefix(text: string, share: number): string {
  if (!(share < 1)) return text;
  if (!(share > 0)) return '';
  const cut = Math.floor(text.length * share);
  if (/\s/.test(text[cut] ?? ' ')) return text.slice(0, cut).trimEnd();
  const head = text.slice(0, cut);
  return head.slice(0, Math.max(0, head.search(/\s\S*$/))).trimEnd();
}

function joinText(a: string, b: string): string {
  if (a === '' || /\s$/.test(a) || /^\s/.test(b)) return a + b;
  return `${a} ${b}`;
}
