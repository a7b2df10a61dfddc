import { COMMON_GARBAGE_FRAMES } from '../../faults.ts';

/**
 * `?fault=garbage` on Deepgram's protocol: malformed text frames a robust client drops. Audio is
 * binary, so none of them can be mistaken for it.
 */
export const DEEPGRAM_GARBAGE_FRAMES: readonly string[] = [
  '{"type":"ConversationText","role":"assistant","content":"truncated',
  '{"type":"VoicewireGarbage","note":"an unknown message type a client must ignore"}',
  '{"type":"ConversationText","role":"assistant","content":{"not":"a string"}}',
  '{"type":"AgentStartedSpeaking","total_latency":"soon"}',
  '{"type":"Error","description":42}',
  ...COMMON_GARBAGE_FRAMES,
];
