import { existsSync, readFileSync } from 'node:fs';
import { defineConfig } from 'tsdown';

/**
 * @voicewire/react's published build (docs/packaging.md): unbundled ESM mirroring src/, `.d.ts`
 * types, and the theme as dist/styles.css.
 *
 * React Server Components: each module whose source starts with `'use client'` starts with it in
 * dist too (see `useClient` below). The build is unbundled, so
 * the directive marks exactly the modules that need it, and the index re-exports them: a Server
 * Component renders `<TalkButton>` directly, and calls the plain helpers (`getTalkButtonState`…)
 * on the server.
 */
const USE_CLIENT = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*['"]use client['"]/;

const clientModules = new Set<string>();
function isClientModule(id: string | null | undefined): boolean {
  if (!id || !/\.[cm]?[jt]sx?$/.test(id) || id.includes('/node_modules/') || !existsSync(id)) return false;
  if (!clientModules.has(id) && USE_CLIENT.test(readFileSync(id, 'utf8'))) clientModules.add(id);
  return clientModules.has(id);
}

/**
 * Rolldown plugin: a built module whose source is a client module starts with `'use client'`,
 * exactly once. Unbundled output keeps the directive today; this holds if that ever changes (a
 * bundled chunk drops it) and fails the build rather than ship a client module without it.
 */
const useClient = {
  name: 'voicewire:use-client',
  renderChunk(code: string, chunk: { moduleIds: string[]; fileName: string }) {
    if (chunk.fileName.endsWith('.d.ts') || !chunk.moduleIds.some(isClientModule)) return null;
    if (USE_CLIENT.test(code)) return null;
    return { code: `'use client';\n${code}` };
  },
};

export default defineConfig({
  entry: { index: 'src/index.ts' },
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
  dts: true,
  plugins: [useClient],
  copy: [{ from: 'src/styles.css', to: 'dist' }],
});
