import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  entry: {
    index: 'src/index.ts',
    'conversation/index': 'src/conversation/index.ts',
    'providers/playai/index': 'src/providers/playai/index.ts',
    'providers/playai/protocol': 'src/providers/playai/protocol.ts',
    'providers/openai/index': 'src/providers/openai/index.ts',
    'providers/elevenlabs/index': 'src/providers/elevenlabs/index.ts',
    'providers/gemini/index': 'src/providers/gemini/index.ts',
    'providers/deepgram/index': 'src/providers/deepgram/index.ts',
    'providers/hume/index': 'src/providers/hume/index.ts',
    'testing/index': 'src/testing/index.ts',
  },
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

/**
 * Fail the build unless every import() of a decoder package in the node build is marked, and each
 * package is imported somewhere (wherever the module that loads them lives).
 */
function checkDecoderImports(dir: string): void {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
  // The printer may break a call over lines: compare with whitespace collapsed.
  const code = files
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n')
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')');
  for (const name of DECODER_PACKAGES) {
    const quoted = JSON.stringify(name);
    const all = code.split(quoted).length - 1;
    const marked = code.split(`import(${IGNORE_COMMENTS} ${quoted})`).length - 1;
    if (marked === 0 || marked !== all) {
      throw new Error(`${dir}: ${all - marked} of ${all} references to ${name} are not marked for run time`);
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
      'build:done': () => checkDecoderImports('dist/node'),
    },
  },
]);
