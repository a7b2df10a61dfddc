import { VoicewireError } from '../errors.ts';
import type { WorkletSource } from './types.ts';
import { LEVEL_SLOTS } from './worklets/messages.ts';

/** The two worklet modules, by the file name they have when self-hosted. */
export type WorkletModuleName = 'capture-processor' | 'player-processor';

const loaded = new WeakMap<BaseAudioContext, Map<string, Promise<void>>>();

/**
 * Add a worklet module to `context` once (capture and player share one context, and a second
 * `addModule` of the same code would only re-register the processor). The inline source holds
 * both processors, so it is added once per context whichever of the two asks first.
 *
 * Inline sources go through a Blob URL first and a `data:` URL second: Safari inside a
 * cross-origin iframe refuses `blob:` module URLs, and some Content-Security-Policies allow one
 * scheme but not the other. `{ baseUrl }` loads `<baseUrl>/<name>.js` for policies that allow
 * neither (self-host the files exported as `@voicewire/core/worklets/*`).
 *
 * Rejects as soon as the context closes or `signal` aborts (see {@link whileOpen}), and a load
 * that failed that way is forgotten, so the per-context cache never holds a promise that cannot
 * settle.
 */
export function loadWorklet(
  context: BaseAudioContext,
  name: WorkletModuleName,
  source: WorkletSource | undefined,
  inlineCode: () => string,
  signal?: AbortSignal,
): Promise<void> {
  let modules = loaded.get(context);
  if (!modules) {
    modules = new Map();
    loaded.set(context, modules);
  }
  const key = typeof source === 'object' ? `${source.baseUrl}|${name}` : 'inline';
  // The inline module, once added, already registered every processor, whatever was asked.
  let pending = modules.get('inline') ?? modules.get(key);
  if (!pending) {
    // The shared load ends with the context, not with one caller's signal (another may still want it).
    pending = whileOpen(addModule(context, name, source, inlineCode), context);
    // A failed load may succeed later (another scheme, a context that was not ready): forget it.
    pending.catch(() => modules.delete(key));
    modules.set(key, pending);
  }
  return signal ? whileOpen(pending, context, signal) : pending;
}

/** The error an aborted start rejects with (`cause` is the signal's reason). */
export function abortError(signal: AbortSignal): VoicewireError {
  return new VoicewireError({
    kind: 'audio-context',
    message: 'Starting audio was aborted.',
    fatal: false,
    cause: signal.reason,
  });
}

/** A function, so TypeScript does not narrow `state` across the awaits in between. */
export function isClosed(context: BaseAudioContext): boolean {
  return context.state === 'closed';
}

export function closedError(): VoicewireError {
  return new VoicewireError({ kind: 'audio-context', message: 'The AudioContext was closed.' });
}

/**
 * `promise`, or a rejection as soon as `context` is closed or `signal` aborts, whichever comes
 * first. Chromium never settles `audioWorklet.addModule()` on a context closed while the module
 * loads (or rejects it only sometimes), and a permission prompt can wait forever: whoever awaits
 * either must still get an answer, or it could never release the microphone it already holds.
 */
export function whileOpen<T>(
  promise: Promise<T>,
  context: BaseAudioContext,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      if (signal?.aborted) fail(abortError(signal));
      else if (isClosed(context)) fail(closedError());
    };
    const detach = () => {
      context.removeEventListener('statechange', check);
      signal?.removeEventListener('abort', check);
    };
    const fail = (error: VoicewireError) => {
      detach();
      reject(error);
    };
    context.addEventListener('statechange', check);
    signal?.addEventListener('abort', check);
    promise.then(
      (value) => {
        detach();
        resolve(value);
      },
      (error: unknown) => {
        detach();
        reject(error);
      },
    );
    check();
  });
}

async function addModule(
  context: BaseAudioContext,
  name: WorkletModuleName,
  source: WorkletSource | undefined,
  inlineCode: () => string,
): Promise<void> {
  const worklet = context.audioWorklet as AudioWorklet | undefined;
  if (!worklet) {
    throw new VoicewireError({
      kind: 'unsupported',
      message: 'This browser has no AudioWorklet (it needs a secure context: https or localhost).',
    });
  }
  // addModule() on a closed context may never settle (Chromium): do not even try.
  if (isClosed(context)) throw closedError();
  if (typeof source === 'object') {
    const url = `${source.baseUrl.replace(/\/+$/, '')}/${name}.js`;
    try {
      await worklet.addModule(url);
      return;
    } catch (cause) {
      throw new VoicewireError({
        kind: 'audio-context',
        message: `Could not load the worklet ${url}.`,
        cause,
      });
    }
  }
  const code = inlineCode();
  const failures: unknown[] = [];
  if (typeof Blob !== 'undefined' && typeof URL.createObjectURL === 'function') {
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    try {
      await worklet.addModule(url);
      return;
    } catch (cause) {
      failures.push(cause);
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  // A context closed mid-load is why the Blob URL failed; a data: URL would not fare better.
  if (isClosed(context)) throw closedError();
  try {
    // The bundle is ASCII (esbuild's charset: 'ascii'), so btoa needs no UTF-8 step.
    await worklet.addModule(`data:text/javascript;base64,${btoa(code)}`);
    return;
  } catch (cause) {
    failures.push(cause);
  }
  throw new VoicewireError({
    kind: 'audio-context',
    message: `Could not load the audio worklets from a blob: or data: URL (a Content-Security-Policy may forbid them; pass worklets: { baseUrl }).`,
    cause: failures.at(-1),
  });
}

/**
 * Levels and stats shared with a worklet through memory, read without any message; needs
 * cross-origin isolation (COOP + COEP). Without it the worklet posts them instead.
 */
export function sharedLevels(): Float32Array | undefined {
  if (
    typeof SharedArrayBuffer === 'undefined' ||
    !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated
  ) {
    return undefined;
  }
  return new Float32Array(new SharedArrayBuffer(LEVEL_SLOTS * Float32Array.BYTES_PER_ELEMENT));
}

/**
 * Resolves once a real-time `context` has rendered past this moment, or after `limitMs` (a
 * context still waiting to start, or for a gesture); at once for an offline one. With
 * {@link whileOpen} around it, a start cannot resolve on a context whose `close()` was already
 * called: Firefox and Chromium report the old state until the close completes, but render
 * nothing more once it began.
 */
export function renderedOnce(context: BaseAudioContext, limitMs = 250): Promise<void> {
  const isRealtime = typeof AudioContext === 'function' && context instanceof AudioContext;
  if (!isRealtime || context.state === 'closed') return Promise.resolve();
  const start = context.currentTime;
  const deadline = Date.now() + limitMs;
  return new Promise((resolve) => {
    const check = () => {
      if (context.currentTime > start || context.state === 'closed' || Date.now() > deadline) resolve();
      else setTimeout(check, 5);
    };
    setTimeout(check, 5);
  });
}
