import { readFileSync } from 'node:fs';
import { defineConfig, type UserConfig } from 'tsdown';

/**
 * @voicewire/core's published build (docs/packaging.md): unbundled ESM that mirrors src/, so a
 * consumer's bundler tree-shakes it module by module and splits every dynamic import() (the audio
 * engine, the mp3/ogg/flac WASM decoders) into its own lazy chunk, plus `.d.ts` types.
 *
 * Two builds of the same sources:
 * - dist/ for browsers and bundlers (the `default` condition);
 * - dist/node/ for the `node` condition (server rendering, Node scripts). The only difference:
 *   the decoder packages' import()s carry bundler-ignore comments. No server ever decodes agent
 *   audio, and a bundler that followed them for a server build (Next.js's Turbopack does, when it
 *   renders client components on the server) would walk into their Node web-worker fallback.
 */
const DECODER_PACKAGES = ['mpg123-decoder', '@wasm-audio-decoders/ogg-vorbis', '@wasm-audio-decoders/flac'];

const common = {
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  unbundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
  fixedExtension: false,
  hash: false,
  // A library leaves constant inlining to the consumer's bundler: inlined here, a module would
  // keep a bare `import './x.js'` to what it no longer uses (noise under sideEffects: false).
  inputOptions: { optimization: { inlineConst: false } },
} satisfies UserConfig;

const IGNORE_COMMENTS = '/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */';

/** Rolldown plugin: `import('<decoder>')` becomes a run-time import no bundler follows. */
const runtimeDecoderImports = {
  name: 'voicewire:runtime-decoder-imports',
  renderChunk(code: string) {
    let out = code;
    for (const name of DECODER_PACKAGES) {
      const quoted = JSON.stringify(name);
      out = out.replace(
        new RegExp(`import\\(\\s*${quoted.replace(/[/\\-]/g, '\\$&')}\\s*\\)`, 'g'),
        `import(${IGNORE_COMMENTS} ${quoted})`,
      );
    }
    return out === code ? null : { code: out };
  },
};

/** Fail the build when the decoder imports are not where the node build expects them. */
function checkDecoderImports(file: string): void {
  // The printer may break the call over lines: compare with whitespace collapsed.
  const code = readFileSync(file, 'utf8').replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
  for (const name of DECODER_PACKAGES) {
    if (!code.includes(`import(${IGNORE_COMMENTS} ${JSON.stringify(name)})`)) {
      throw new Error(`${file}: the import() of ${name} was not marked for run time`);
    }
  }
}

export default defineConfig([
  { ...common, outDir: 'dist', dts: true },
  {
    ...common,
    outDir: 'dist/node',
    dts: false,
    plugins: [runtimeDecoderImports],
    hooks: {
      'build:done': () => checkDecoderImports('dist/node/audio/decoders/createWasmDecoder.js'),
    },
  },
]);
