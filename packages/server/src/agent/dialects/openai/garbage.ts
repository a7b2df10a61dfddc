import { COMMON_GARBAGE_FRAMES } from '../../faults.ts';

/**
 * `?fault=garbage` on OpenAI's protocol: frames a robust client drops. None is valid audio, so a
 * client that drops them keeps a clean stream (`@openai/agents-realtime` treats a known type that
 * fails its schema as an unknown event and ignores it).
 */
export const OPENAI_GARBAGE_FRAMES: readonly string[] = [
  '{"type":"response.output_audio.delta","event_id":"event_garbage","delta":"AAAA',
  '{"type":"voicewire.garbage","event_id":"event_garbage","note":"an unknown event a client must ignore"}',
  '{"type":"response.output_audio.delta","event_id":"event_garbage","response_id":"resp_garbage","item_id":"item_garbage","output_index":0,"content_index":0,"delta":"@@ not base64 @@"}',
  '{"type":"response.output_audio.delta","event_id":"event_garbage","delta":12345}',
  '{"type":"response.output_audio_transcript.delta","event_id":"event_garbage","delta":{"not":"a string"}}',
  '{"type":"error","error":"not an object"}',
  ...COMMON_GARBAGE_FRAMES,
];
