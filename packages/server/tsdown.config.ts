import { defineConfig } from 'tsdown';

/**
 * @voicewire/server's published build (docs/packaging.md): unbundled ESM for Node ≥ 20.19 that
 * mirrors src/, `.d.ts` types, and the two command-line programs as dist/cli/*.js (the package's
 * bins). Unbundled, every module keeps its place, so the files a module opens beside itself at run
 * time (the speech child process, audio/tts/mespeakProcess.cjs) are copied to the same place.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', 'cli/agent': 'src/cli/agent.ts', 'cli/relay': 'src/cli/relay.ts' },
  unbundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  tsconfig: 'tsconfig.build.json',
  fixedExtension: false,
  hash: false,
  // A library leaves constant inlining to the consumer's bundler: inlined here, a module would
  // keep a bare `import './x.js'` to what it no longer uses (noise under sideEffects: false).
  inputOptions: { optimization: { inlineConst: false } },
  dts: true,
  copy: [{ from: 'src/audio/tts/mespeakProcess.cjs', to: 'dist/audio/tts' }],
});
