import type { ConversationMode } from './types.ts';

/**
 * Who has the floor, as a pure state machine: {@link nextTurn} is the whole of it. The
 * conversation feeds it what the server and the player report and shows `mode`; the one timer
 * (the drain grace) is started and cleared by the conversation as `drainPending` says.
 *
 * | event              | from                                   | to                                  |
 * | ------------------ | -------------------------------------- | ----------------------------------- |
 * | `reset`            | any                                    | `listening`, everything cleared     |
 * | `userSpeechStarted`| any                                    | `userSpeaking`; a drain is forgotten|
 * | `userSpeechEnded`  | `agentSpeaking`                        | unchanged                           |
 * |                    | any other                              | `thinking`                          |
 * | `replyStarted`     | any                                    | mode unchanged; a new reply         |
 * | `replyEnded`       | `agentSpeaking`, drain pending         | `listening`                         |
 * |                    | otherwise                              | mode unchanged; reply complete      |
 * | `audioStarted`     | any                                    | `agentSpeaking`                     |
 * | `audioDrained`     | `agentSpeaking`, reply complete        | `listening`                         |
 * |                    | `agentSpeaking`, reply not complete    | unchanged; drain pending            |
 * |                    | any other                              | unchanged                           |
 * | `drainGraceElapsed`| `agentSpeaking`, drain pending         | `listening`; resumable              |
 * |                    | otherwise                              | mode unchanged; drain over          |
 * | `audioResumed`     | `listening`, resumable                 | `agentSpeaking`                     |
 * |                    | otherwise                              | mode unchanged; drain over          |
 * | `connectionLost`   | `agentSpeaking`                        | unchanged (its audio plays on)      |
 * |                    | any other                              | `listening`                         |
 */
export interface TurnState {
  mode: ConversationMode;
  /** The server sent `audioStreamEnd` for the reply now playing. */
  replyEnded: boolean;
  /**
   * The player ran dry before the reply's end: the end, or the network running late. The mode
   * stays `agentSpeaking` for {@link DRAIN_GRACE_MS}; more audio of the reply in that time means
   * the agent is still talking.
   */
  drainPending: boolean;
  /** The mode went to `listening` on such a drain: more audio of the reply means it resumed. */
  resumable: boolean;
}

export type TurnEvent =
  /** A new conversation (`start()`) or its end. */
  | 'reset'
  /** The server heard the user start speaking (`voiceActivityStart`): a barge-in. */
  | 'userSpeechStarted'
  /** The server heard the user stop (`voiceActivityEnd`). */
  | 'userSpeechEnded'
  /** The agent began a new reply (`newAudioStream`). */
  | 'replyStarted'
  /** The server sent the whole reply (`audioStreamEnd`). */
  | 'replyEnded'
  /** The player made the reply's first sample audible. */
  | 'audioStarted'
  /** The player's queue ran dry. */
  | 'audioDrained'
  /** {@link DRAIN_GRACE_MS} passed since `audioDrained` left a drain pending. */
  | 'drainGraceElapsed'
  /** More audio of a reply that had run dry reached the player (its `underrun`). */
  | 'audioResumed'
  /** The socket was lost; the conversation is reconnecting. */
  | 'connectionLost';

/**
 * How long the player may run dry in the middle of a reply (no `audioStreamEnd` yet) before the
 * mode says the agent has stopped: late network chunks must not flicker `agentSpeaking`.
 */
export const DRAIN_GRACE_MS = 300;

export const INITIAL_TURN: Readonly<TurnState> = Object.freeze({
  mode: 'listening',
  replyEnded: false,
  drainPending: false,
  resumable: false,
});

/** The turn after `event`. Pure: returns `turn` itself when nothing changes. */
export function nextTurn(turn: TurnState, event: TurnEvent): TurnState {
  const next = transition(turn, event);
  const keys = Object.keys(next) as (keyof TurnState)[];
  return keys.every((key) => next[key] === turn[key]) ? turn : next;
}

/** The mode after `event`, for when only the mode matters. */
export function nextMode(mode: ConversationMode, event: TurnEvent): ConversationMode {
  return nextTurn({ ...INITIAL_TURN, mode }, event).mode;
}

function transition(turn: TurnState, event: TurnEvent): TurnState {
  const speaking = turn.mode === 'agentSpeaking';
  switch (event) {
    case 'reset':
      return INITIAL_TURN;
    case 'userSpeechStarted':
      return { ...turn, mode: 'userSpeaking', drainPending: false, resumable: false };
    case 'userSpeechEnded':
      return speaking ? turn : { ...turn, mode: 'thinking' };
    case 'replyStarted':
      return { ...turn, replyEnded: false, drainPending: false, resumable: false };
    case 'replyEnded':
      if (turn.drainPending) {
        // It had already run dry: that was the end.
        return { ...turn, replyEnded: true, drainPending: false, mode: speaking ? 'listening' : turn.mode };
      }
      return { ...turn, replyEnded: true };
    case 'audioStarted':
      return { ...turn, mode: 'agentSpeaking' };
    case 'audioDrained':
      if (!speaking) return turn;
      if (turn.replyEnded) return { ...turn, mode: 'listening' };
      return { ...turn, drainPending: true };
    case 'drainGraceElapsed':
      if (!turn.drainPending) return turn;
      if (!speaking) return { ...turn, drainPending: false };
      return { ...turn, drainPending: false, resumable: true, mode: 'listening' };
    case 'audioResumed': {
      const resumed = turn.resumable && turn.mode === 'listening';
      return { ...turn, drainPending: false, resumable: false, mode: resumed ? 'agentSpeaking' : turn.mode };
    }
    case 'connectionLost':
      return speaking ? turn : { ...turn, mode: 'listening' };
  }
}
