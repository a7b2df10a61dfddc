export {
  type AudioContextController,
  type AudioContextControllerOptions,
  createAudioContextController,
} from './createAudioContextController.ts';
export { createCapture } from './createCapture.ts';
export { createPlayer } from './createPlayer.ts';
export * from './types.ts';
