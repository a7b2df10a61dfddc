import { COMMON_GARBAGE_FRAMES } from '../../faults.ts';

/**
 * `?fault=garbage` on ElevenLabs' protocol: frames a robust client drops. None is valid audio, so
 * a client that drops them keeps a clean stream.
 */
export const ELEVENLABS_GARBAGE_FRAMES: readonly string[] = [
  '{"type":"audio","audio_event":{"audio_base_64":"AAAA',
  '{"type":"voicewire_garbage","note":"an unknown message type a client must ignore"}',
  '{"type":"audio","audio_event":{"audio_base_64":12345,"event_id":"not a number"}}',
  '{"type":"agent_response","agent_response_event":{"agent_response":{"not":"a string"}}}',
  '{"type":"user_transcript","user_transcription_event":[1,2,3]}',
  ...COMMON_GARBAGE_FRAMES,
];
