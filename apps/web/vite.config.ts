import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The demo page. The workspace packages are consumed from source (their `exports` point at
// src/index.ts), so edits to the library show up here without a build step.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [react()],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
});
