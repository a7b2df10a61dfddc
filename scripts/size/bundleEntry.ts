/**
 * Builds a consumer's entry file the way a bundler does, and returns what it emits as neutral
 * chunks (code, static and dynamic imports, which input module produced which bytes):
 * - `vite`: a Vite 8 library build of the entry (`build.lib`, ES, `minify: true`; Rolldown and
 *   Oxc, code splitting on every import()). Library mode keeps whitespace in ES output (Vite
 *   leaves it for the next bundler), so it reads about 1.3 KB more than an app's production build
 *   of the same import: the stricter of the two, and the measure issue 18 names.
 * - `esbuild`: `bundle`, `splitting`, `format: 'esm'`, `minify`.
 * React stays external in both. The entry imports the packages by name, resolved through their
 * published `exports` from a `node_modules` like a consumer's, so the build reads dist/, never the
 * sources (the `@voicewire/source` condition is not set; `measure.ts` also checks every input).
 */
import { dirname, join, resolve } from 'node:path';
import { build as esbuild } from 'esbuild';
import { type Rolldown, build as viteBuild } from 'vite';
import { type RawSourceMap, type Span, sourceSpans } from './sourceSpans.ts';

export type Bundler = 'vite' | 'esbuild';
export const BUNDLERS: readonly Bundler[] = ['vite', 'esbuild'];

export interface BuiltChunk {
  fileName: string;
  /** The code as emitted (no source map comment). */
  code: string;
  isEntry: boolean;
  /** Other chunks of this build it imports statically / with import(). */
  imports: string[];
  dynamicImports: string[];
  /** Input module (absolute path, or a bundler's virtual id) → the spans of `code` it produced. */
  modules: Map<string, Span[]>;
  /** esbuild only: minified bytes per input module as its metafile counts them (a cross-check). */
  metafileBytes?: Map<string, number>;
}

/** Key in `BuiltChunk.modules` for code no input module produced. */
export const BUNDLER_MODULE = '(bundler)';

const REACT_EXTERNAL = /^react(-dom)?(\/.*)?$/;

/** Builds `entryFile` (in `workDir`, whose node_modules resolves the packages) with `bundler`. */
export function bundleEntry(bundler: Bundler, workDir: string, entryFile: string): Promise<BuiltChunk[]> {
  return bundler === 'vite' ? bundleWithVite(workDir, entryFile) : bundleWithEsbuild(workDir, entryFile);
}

async function bundleWithVite(workDir: string, entryFile: string): Promise<BuiltChunk[]> {
  const outDir = join(workDir, 'vite');
  const result = await viteBuild({
    configFile: false,
    envFile: false,
    root: workDir,
    // Not the default node_modules/.vite: workDir's node_modules is the workspace's.
    cacheDir: join(workDir, '.vite'),
    logLevel: 'silent',
    publicDir: false,
    build: {
      outDir,
      write: false,
      minify: true,
      sourcemap: 'hidden',
      copyPublicDir: false,
      reportCompressedSize: false,
      lib: { entry: entryFile, formats: ['es'], fileName: 'entry' },
      rolldownOptions: { external: REACT_EXTERNAL },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const chunks = outputs.flatMap((output) => output.output).filter((item) => item.type === 'chunk');
  const names = new Set(chunks.map((chunk) => chunk.fileName));
  return chunks.map((chunk) => {
    const base = dirname(join(outDir, chunk.fileName));
    return {
      fileName: chunk.fileName,
      code: chunk.code,
      isEntry: chunk.isEntry,
      imports: chunk.imports.filter((name) => names.has(name)),
      dynamicImports: chunk.dynamicImports.filter((name) => names.has(name)),
      // A chunk of the bundler's own (Rolldown's runtime) comes without a source map.
      modules: chunk.map
        ? spansByModule(chunk.code, chunk.map, base)
        : new Map<string, Span[]>([[BUNDLER_MODULE, [[0, chunk.code.length]]]]),
    };
  });
}

async function bundleWithEsbuild(workDir: string, entryFile: string): Promise<BuiltChunk[]> {
  const outdir = join(workDir, 'esbuild');
  const result = await esbuild({
    entryPoints: [entryFile],
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: 'es2022',
    outdir,
    write: false,
    metafile: true,
    sourcemap: 'external',
    external: ['react', 'react/*', 'react-dom', 'react-dom/*'],
    absWorkingDir: workDir,
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((file) => [file.path, file.text]));
  const chunks: BuiltChunk[] = [];
  for (const [outPath, output] of Object.entries(result.metafile.outputs)) {
    if (!outPath.endsWith('.js')) continue;
    const path = resolve(workDir, outPath);
    const code = files.get(path);
    const map = files.get(`${path}.map`);
    if (code === undefined || map === undefined)
      throw new Error(`esbuild emitted no code or map for ${outPath}`);
    const chunkName = (other: string) => resolve(workDir, other).slice(outdir.length + 1);
    chunks.push({
      fileName: chunkName(outPath),
      code,
      // esbuild marks the targets of import() as entry points too: the entry is the one built from ours.
      isEntry: output.entryPoint !== undefined && resolve(workDir, output.entryPoint) === entryFile,
      imports: output.imports
        .filter((i) => !i.external && i.kind === 'import-statement')
        .map((i) => chunkName(i.path)),
      dynamicImports: output.imports
        .filter((i) => !i.external && i.kind === 'dynamic-import')
        .map((i) => chunkName(i.path)),
      modules: spansByModule(code, JSON.parse(map) as RawSourceMap, dirname(path)),
      metafileBytes: new Map(
        Object.entries(output.inputs).map(([input, { bytesInOutput }]) => [
          resolve(workDir, input),
          bytesInOutput,
        ]),
      ),
    });
  }
  return chunks;
}

/** Spans by input module, sources resolved to absolute paths (virtual ids kept as they are). */
function spansByModule(code: string, map: RawSourceMap, base: string): Map<string, Span[]> {
  const bySource = sourceSpans(code, map);
  const modules = new Map<string, Span[]>();
  for (const [index, spans] of bySource) {
    const source = index < 0 ? null : map.sources[index];
    const id = source == null ? BUNDLER_MODULE : source.includes('\0') ? source : resolve(base, source);
    // Two source entries for one module (it happens with virtual ids): merge their spans.
    const merged = [...(modules.get(id) ?? []), ...spans].sort((a, b) => a[0] - b[0]);
    modules.set(id, merged);
  }
  return modules;
}
