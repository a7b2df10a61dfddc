import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { workspaceSources } from '../../testing/workspaceSources.ts';

// The demo page. The workspace packages are consumed from source (the `@voicewire/source` export
// condition, testing/workspaceSources.ts), so edits to the library show up here without a build.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [workspaceSources(), react()],
  server: { host: '127.0.0.1', port: 5173 },
  // The decoders are loaded with import() only when their format is first used; listing them
  // here pre-bundles them at start-up, so the dev server never reloads the page mid-conversation
  // to optimise a dependency it discovered late.
  optimizeDeps: {
    include: [
      'react',
      'react-dom/client',
      '@voicewire/core > zustand/vanilla',
      '@voicewire/core > mpg123-decoder',
      '@voicewire/core > @wasm-audio-decoders/ogg-vorbis',
      '@voicewire/core > @wasm-audio-decoders/flac',
    ],
  },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
});
