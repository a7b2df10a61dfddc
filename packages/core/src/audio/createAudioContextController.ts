import { VoicewireError } from '../errors.ts';
import { createAudioContext } from './createAudioContext.ts';

export interface AudioContextControllerOptions {
  /** Injectable for tests; defaults to the global `AudioContext` (or `webkitAudioContext`). */
  AudioContext?: typeof AudioContext;
  /** @defaultValue 'interactive' */
  latencyHint?: AudioContextLatencyCategory | number;
  /** Output device, where `AudioContext.setSinkId` exists (Chrome 110+); ignored elsewhere. */
  sinkId?: string;
}

export interface AudioContextController {
  readonly context: AudioContext;
  /** Resume the context. Call it inside the user's gesture (iOS Safari only unlocks audio there). */
  resume(): Promise<void>;
  /**
   * Whether this browser can route the output to a chosen device (`AudioContext.setSinkId`:
   * Chrome and Edge 110+; not Firefox, not Safari). Where it is false, offer no output picker:
   * the system's default output plays.
   */
  readonly canSelectOutputDevice: boolean;
  /** Route the output to another device; false where the browser cannot (see `canSelectOutputDevice`) or the device refused. */
  setSinkId(sinkId: string): Promise<boolean>;
  /** Close the context and detach every listener; idempotent. */
  close(): Promise<void>;
}

type ContextState = AudioContextState | 'interrupted';

/**
 * One AudioContext per conversation, kept running: created synchronously so that it can be
 * made inside the user's gesture, resumed again after the browser suspends it (`suspended`
 * after a tab switch or an autoplay block, Safari's `interrupted` for a phone call or screen
 * lock) when the page becomes visible or on the next tap, and closed at the end. Its listeners
 * exist only between creation and `close()`.
 */
export function createAudioContextController(
  options: AudioContextControllerOptions = {},
): AudioContextController {
  const context = createAudioContext(options);
  let closed = false;
  const doc = typeof document === 'undefined' ? undefined : document;

  const state = () => context.state as ContextState;
  const tryResume = () => {
    if (closed || state() === 'running' || state() === 'closed') return;
    // Without a gesture this may stay pending or fail; the next tap tries again.
    context.resume().catch(() => {});
  };
  const onStateChange = () => {
    if (state() !== 'running' && (!doc || doc.visibilityState === 'visible')) tryResume();
  };
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') tryResume();
  };
  context.addEventListener('statechange', onStateChange);
  doc?.addEventListener('visibilitychange', onVisibility);
  doc?.addEventListener('pointerdown', tryResume, true);
  doc?.addEventListener('keydown', tryResume, true);

  const withSink = context as AudioContext & { setSinkId?: (id: string) => Promise<void> };
  const canSelectOutputDevice = typeof withSink.setSinkId === 'function';
  const setSinkId = async (sinkId: string): Promise<boolean> => {
    if (typeof withSink.setSinkId !== 'function') return false;
    try {
      await withSink.setSinkId(sinkId);
      return true;
    } catch {
      return false;
    }
  };
  if (options.sinkId !== undefined) void setSinkId(options.sinkId);

  return {
    context,
    canSelectOutputDevice,
    async resume() {
      if (closed || state() === 'running') return;
      try {
        await context.resume();
      } catch (cause) {
        throw new VoicewireError({
          kind: 'audio-context',
          message: 'The browser would not start audio (call start() from a click or key press).',
          cause,
        });
      }
    },
    setSinkId,
    async close() {
      if (closed) return;
      closed = true;
      context.removeEventListener('statechange', onStateChange);
      doc?.removeEventListener('visibilitychange', onVisibility);
      doc?.removeEventListener('pointerdown', tryResume, true);
      doc?.removeEventListener('keydown', tryResume, true);
      if (context.state !== 'closed') await context.close().catch(() => {});
    },
  };
}
