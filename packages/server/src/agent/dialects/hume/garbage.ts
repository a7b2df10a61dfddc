import { COMMON_GARBAGE_FRAMES } from '../../faults.ts';

/**
 * `?fault=garbage` on Hume EVI: frames a robust client drops. None is valid audio, so a client
 * that drops them keeps a clean stream.
 */
export const HUME_GARBAGE_FRAMES: readonly string[] = [
  '{"type":"audio_output","id":"garbage","index":0,"data":"UklGR',
  '{"type":"voicewire_garbage","note":"an unknown message type a client must ignore"}',
  '{"type":"audio_output","id":"garbage","index":0,"data":"@@ not base64 @@"}',
  '{"type":"audio_output","id":"garbage","index":"first","data":12345}',
  '{"type":"assistant_message","message":"not an object"}',
  '{"type":"user_message","message":{"role":"user","content":{"not":"a string"}}}',
  ...COMMON_GARBAGE_FRAMES,
];
