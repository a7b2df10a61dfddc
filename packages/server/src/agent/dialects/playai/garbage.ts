/**
 * The malformed frames `?fault=garbage` sends on PlayAI's protocol, in turn: each is something a
 * robust client must survive without losing the conversation (drop it, count it, surface it to a
 * debug callback). None is valid base64 audio, so none can corrupt the audio stream if it is dropped.
 */
export const PLAYAI_GARBAGE_FRAMES: readonly string[] = [
  // Invalid JSON (truncated mid-message).
  '{"type":"audioStream","data":"AAAA',
  // An unknown message type.
  '{"type":"voicewireGarbage","note":"an unknown message type a client must ignore"}',
  // audioStream whose data is not base64.
  '{"type":"audioStream","data":"@@ not base64 at all! @@"}',
  // Wrong field types.
  '{"type":"audioStream","data":12345}',
  '{"type":"onAgentTranscript","message":{"not":"a string"}}',
  '{"type":"onUserTranscript","message":[1,2,3]}',
  // JSON that is not an object, or has no type.
  '[1,2,3]',
  'null',
  '{"data":"no type field"}',
  '{"type":42}',
  // Not JSON at all.
  'garbage \u0000 frame',
];
