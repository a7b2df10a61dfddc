export { createConversation } from './createConversation.ts';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FRAME_MS,
  DEFAULT_INPUT_ENCODING,
  DEFAULT_INPUT_SAMPLE_RATE_HZ,
  DEFAULT_OUTPUT_FORMAT,
  DEFAULT_OUTPUT_SAMPLE_RATE_HZ,
  MAX_SEND_BACKLOG_MS,
  PENDING_AUDIO_MS,
} from './options.ts';
export { DEFAULT_RECONNECT_POLICY, reconnectDelayMs } from './reconnectPolicy.ts';
export { buildSocketUrl, DEFAULT_TALK_URL } from './socketUrl.ts';
export { interruptAgentTurn, mergeTranscript } from './transcript.ts';
export { DRAIN_GRACE_MS, nextMode, nextTurn, type TurnEvent, type TurnState } from './turnTaking.ts';
export type * from './types.ts';
