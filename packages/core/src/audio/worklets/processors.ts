/**
 * Both processors in one module: the library inlines a single string and a context needs a
 * single `addModule()` for capture and playback (what they share, such as the message
 * constants and the worklet scope, is bundled once). Built by scripts/build-worklets.ts.
 */
import { CaptureProcessor } from './capture-processor.ts';
import { PlayerProcessor } from './player-processor.ts';

// Each module registers its processor when it loads; using them here is what keeps the bundler
// (the package is marked side-effect free) from dropping them.
export const PROCESSORS = [CaptureProcessor, PlayerProcessor];
