import { VoicewireError } from '../errors.ts';
import type { WorkletSource } from './types.ts';

/** The two worklet modules, by the file name they have when self-hosted. */
export type WorkletModuleName = 'capture-processor' | 'player-processor';

const loaded = new WeakMap<BaseAudioContext, Map<string, Promise<void>>>();

/**
 * Add a worklet module to `context` once (capture and player share one context, and a second
 * `addModule` of the same code would only re-register the processor).
 *
 * Inline sources go through a Blob URL first and a `data:` URL second: Safari inside a
 * cross-origin iframe refuses `blob:` module URLs, and some Content-Security-Policies allow one
 * scheme but not the other. `{ baseUrl }` loads `<baseUrl>/<name>.js` for policies that allow
 * neither (self-host the files exported as `@voicewire/core/worklets/*`).
 */
export function loadWorklet(
  context: BaseAudioContext,
  name: WorkletModuleName,
  source: WorkletSource | undefined,
  inlineCode: () => string,
): Promise<void> {
  let modules = loaded.get(context);
  if (!modules) {
    modules = new Map();
    loaded.set(context, modules);
  }
  const key = typeof source === 'object' ? `${source.baseUrl}|${name}` : `inline|${name}`;
  let pending = modules.get(key);
  if (!pending) {
    pending = addModule(context, name, source, inlineCode);
    // A failed load may succeed later (another scheme, a context that was not ready): forget it.
    pending.catch(() => modules.delete(key));
    modules.set(key, pending);
  }
  return pending;
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
  try {
    // The bundle is ASCII (esbuild's charset: 'ascii'), so btoa needs no UTF-8 step.
    await worklet.addModule(`data:text/javascript;base64,${btoa(code)}`);
    return;
  } catch (cause) {
    failures.push(cause);
  }
  throw new VoicewireError({
    kind: 'audio-context',
    message: `Could not load the ${name} worklet from a blob: or data: URL (a Content-Security-Policy may forbid them; pass worklets: { baseUrl }).`,
    cause: failures.at(-1),
  });
}
