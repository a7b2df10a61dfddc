import type { ConversationError, ConversationMode, ConversationStatus } from '@voicewire/core';
import { isLiveStatus } from '@voicewire/core/conversation';

/**
 * What `<TalkButton>` shows, as its `data-state`: the status, with `connected` split by mode.
 * - `idle`: nothing started yet
 * - `connecting`: the socket is opening or waiting for `init` (`aria-busy`)
 * - `listening` | `userSpeaking` | `thinking` | `agentSpeaking`: connected, by turn-taking mode
 * - `reconnecting`: the connection dropped and is being re-established
 * - `ending`: the agent ended the call; its last words are playing (a press cuts them)
 * - `ended`: the conversation is over (by the user, the agent or the server)
 * - `error`: it ended on an error (`aria-describedby` points at the announced message)
 */
export type TalkButtonState =
  | 'idle'
  | 'connecting'
  | 'listening'
  | 'userSpeaking'
  | 'thinking'
  | 'agentSpeaking'
  | 'reconnecting'
  | 'ending'
  | 'ended'
  | 'error';

export const TALK_BUTTON_STATES: readonly TalkButtonState[] = [
  'idle',
  'connecting',
  'listening',
  'userSpeaking',
  'thinking',
  'agentSpeaking',
  'reconnecting',
  'ending',
  'ended',
  'error',
];

export function getTalkButtonState(status: ConversationStatus, mode: ConversationMode): TalkButtonState {
  return status === 'connected' ? mode : status;
}

/**
 * Per-state text of the button: override any of them (for another language, say) with `labels`.
 * `holdToTalk` is the label of a connected call in push-to-talk.
 */
export type TalkButtonLabels = Record<TalkButtonState | 'holdToTalk', string>;

export const DEFAULT_TALK_BUTTON_LABELS: TalkButtonLabels = {
  idle: 'Start conversation',
  connecting: 'Connecting…',
  listening: 'End conversation',
  userSpeaking: 'End conversation',
  thinking: 'End conversation',
  agentSpeaking: 'End conversation',
  reconnecting: 'Reconnecting…',
  ending: 'End conversation',
  ended: 'Start conversation',
  error: 'Try again',
  holdToTalk: 'Hold to talk',
};

/** Connected in one of the turn-taking modes: where push-to-talk makes the button a hold control. */
export function isConnectedState(state: TalkButtonState): boolean {
  return (
    state === 'listening' || state === 'userSpeaking' || state === 'thinking' || state === 'agentSpeaking'
  );
}

/** The status a state stands for (the inverse of `getTalkButtonState`, modes folded back). */
function statusOf(state: TalkButtonState): ConversationStatus {
  return isConnectedState(state) ? 'connected' : (state as ConversationStatus);
}

/** Whether the conversation is on (`isLiveStatus`): the button's `aria-pressed`. */
export function isTalkButtonPressed(state: TalkButtonState): boolean {
  return isLiveStatus(statusOf(state));
}

/** The default text announced for an error: the library's human message. */
export function defaultFormatError(error: ConversationError): string {
  return error.message;
}
