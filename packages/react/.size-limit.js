// Size budget of @voicewire/react: useAgentConversation + TalkButton + Transcript, React external,
// minified + gzip <= 15 KB, lazy decoder chunks excluded. Measured on the built packages (dist/,
// `pnpm size` builds them first) as a consumer's bundler sees them: esbuild resolves
// @voicewire/core through its published exports (the browser build), never the sources. Measured
// with size-limit (esbuild, minified, gzip) in the test command; `pnpm bench bundle` prints the
// same figures with a breakdown and the lazy chunks' sizes.
//
// Two checks, so the number is honest about what loads when:
// 1. what the page loads when it imports the components: every import() stays out (a bundler
//    splits it into its own chunk);
// 2. that plus the audio engine core fetches with import() at start() (capture, player and the
//    worklet sources inlined in them as strings): everything but the mp3/ogg/flac WASM decoders,
//    which load only when the session's output format needs one.

const LAZY_DECODER_PACKAGES = /^(mpg123-decoder|@wasm-audio-decoders\/[^/]+)$/;

/** esbuild plugin: dynamic import()s (all, or only those `only` matches) stay out of the bundle. */
const excludeDynamicImports = (only) => ({
  name: 'exclude-dynamic-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' && (!only || only.test(args.path))
        ? { path: args.path, external: true }
        : undefined,
    );
  },
});

const widget = {
  path: 'dist/index.js',
  import: '{ useAgentConversation, TalkButton, Transcript }',
  ignore: ['react', 'react-dom'],
  gzip: true,
};

export default [
  {
    ...widget,
    name: 'useAgentConversation + TalkButton + Transcript, loaded at import',
    limit: '15 KB',
    modifyEsbuildConfig: (config) => ({
      ...config,
      plugins: [...(config.plugins ?? []), excludeDynamicImports()],
    }),
  },
  {
    ...widget,
    name: '… + the audio engine loaded at start() (worklets included, decoders excluded)',
    // TODO(size): the 15 KB target holds at import; with the audio engine it is ~24.6 KB
    // (createConversation, capture/player and their one inlined worklet module). This limit guards
    // against regressions while those shrink; lower it towards 15 KB as they do. Drain-then-close,
    // push-to-talk, device switching, the wake lock and the spectrum taps added ~1.5 KB; the output
    // gate that silences an interrupt within 10 ms in every engine and the start-up checks that
    // turn a mute AudioContext into an error added ~0.7 KB.
    limit: '28 KB',
    modifyEsbuildConfig: (config) => ({
      ...config,
      plugins: [...(config.plugins ?? []), excludeDynamicImports(LAZY_DECODER_PACKAGES)],
    }),
  },
];
