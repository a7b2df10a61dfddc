import type { Capture, CaptureOptions, Player, PlayerOptions } from './types.ts';

/*
 * The public `createCapture` and `createPlayer`: the worklet engine (worklet sources, resampler,
 * decoders) loads with a dynamic import on the first call, never when a page imports the package.
 * Exporting the engine modules themselves from the index would put them in every importer's static
 * graph, and a bundler that splits code (esbuild, Rollup) would then load them with the page
 * instead of at `start()`. Both already return promises, so the deferred load changes nothing for
 * a caller.
 */

/** Load the engine now (a page about to offer a call warms it up); loading errors wait for the call. */
export function preloadAudioEngine(): void {
  void import('./createCapture.ts').catch(() => {});
  void import('./createPlayer.ts').catch(() => {});
}

/** Opens the microphone and starts the capture worklet; see createCapture.ts for the options. */
export function createCapture(options: CaptureOptions): Promise<Capture> {
  return import('./createCapture.ts').then((engine) => engine.createCapture(options));
}

/** Starts the agent-audio player worklet; see createPlayer.ts for the options. */
export function createPlayer(options: PlayerOptions): Promise<Player> {
  return import('./createPlayer.ts').then((engine) => engine.createPlayer(options));
}
