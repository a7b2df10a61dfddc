import type { ConversationStatus } from './types.ts';

/**
 * The conversation's lifecycle `status`, as a pure state machine: {@link nextStatus} is the whole
 * of it, and the conversation writes `status` nowhere else.
 *
 * | event            | from                                      | to              |
 * | ---------------- | ----------------------------------------- | --------------- |
 * | `start`          | `idle`, `ended`, `error`                  | `connecting`    |
 * |                  | any other (a call is live)                | unchanged       |
 * | `ready`          | `connecting`, `reconnecting`, `connected` | `connected`     |
 * |                  | any other                                 | unchanged       |
 * | `connectionLost` | `connecting`, `connected`, `reconnecting` | `reconnecting`  |
 * |                  | any other                                 | unchanged       |
 * | `drain`          | `connecting`, `connected`, `reconnecting` | `ending`        |
 * |                  | any other                                 | unchanged       |
 * | `end`            | any but `idle`                            | `ended`         |
 * |                  | `idle`                                    | unchanged       |
 * | `fail`           | any                                       | `error`         |
 *
 * `connecting` a first time, `reconnecting` after a drop (the agent's audio still playing from
 * before plays on); `ending` while the agent's last words play out after it hung up.
 */
export type LifecycleEvent =
  /** `start()` began a call. */
  | 'start'
  /** The server answered the opening (the provider's `ready`). */
  | 'ready'
  /** The socket was lost and the reconnect policy tries again. */
  | 'connectionLost'
  /** The agent ended the call: its last words play out first. */
  | 'drain'
  /** The call is over: the user stopped, the agent's words played out, the page went away. */
  | 'end'
  /** The call is over with an error. */
  | 'fail';

const LIVE: ReadonlySet<ConversationStatus> = new Set(['connecting', 'connected', 'reconnecting']);

/** The status after `event`. Pure: returns `status` itself when nothing changes. */
export function nextStatus(status: ConversationStatus, event: LifecycleEvent): ConversationStatus {
  switch (event) {
    case 'start':
      return status === 'idle' || status === 'ended' || status === 'error' ? 'connecting' : status;
    case 'ready':
      return LIVE.has(status) ? 'connected' : status;
    case 'connectionLost':
      return LIVE.has(status) ? 'reconnecting' : status;
    case 'drain':
      return LIVE.has(status) ? 'ending' : status;
    case 'end':
      return status === 'idle' ? status : 'ended';
    case 'fail':
      return 'error';
  }
}

/** The call is live: connecting, connected, reconnecting or ending (its audio still plays). */
export function isLiveStatus(status: ConversationStatus): boolean {
  return LIVE.has(status) || status === 'ending';
}
