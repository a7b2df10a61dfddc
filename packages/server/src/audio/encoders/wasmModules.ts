import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const modules = new Map<string, Promise<WebAssembly.Module>>();

/**
 * The compiled WASM of one of wasm-media-encoders' codecs, read from the package's own files and
 * compiled once per process. Its default entry points decode an inline base64 copy and compile it
 * again for every encoder (~90 ms each), which a server opening streams for 200 sessions cannot pay.
 */
export function wasmEncoderModule(codec: 'mp3' | 'ogg'): Promise<WebAssembly.Module> {
  let module = modules.get(codec);
  if (!module) {
    module = readFile(require.resolve(`wasm-media-encoders/wasm/${codec}`)).then((bytes) =>
      WebAssembly.compile(bytes),
    );
    // A failed read must not poison every later stream.
    module.catch(() => modules.delete(codec));
    modules.set(codec, module);
  }
  return module;
}
