import { COMMON_GARBAGE_FRAMES } from '../../faults.ts';

/**
 * `?fault=garbage` on Gemini Live: frames a robust client drops (text frames, where the service
 * sends binary ones). None is valid audio, so a client that drops them keeps a clean stream.
 */
export const GEMINI_GARBAGE_FRAMES: readonly string[] = [
  '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AAAA',
  '{"voicewireGarbage":{"note":"an unknown message a client must ignore"}}',
  '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"@@ not base64 @@"}}]}}}',
  '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":12345}}]}}}',
  '{"serverContent":{"modelTurn":{"parts":"not a list"}}}',
  '{"serverContent":{"outputTranscription":{"text":{"not":"a string"}}}}',
  '{"serverContent":"not an object"}',
  ...COMMON_GARBAGE_FRAMES,
];
