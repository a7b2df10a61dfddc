/**
 * The size check's measurement (`pnpm size` prints it and fails on a miss; `pnpm bench bundle`
 * prints the same figures): what a site's bundler emits for a consumer's import of the BUILT
 * packages (dist/, run `pnpm run build` first), by Vite and by esbuild with code splitting
 * (`bundleEntry.ts`), gzip -9 chunk by chunk as a server sends them:
 * - at import: the entry chunk and every chunk it imports statically, transitively;
 * - with the engine: that plus every chunk reached through import() (the audio engine core loads
 *   at `start()`, the wake lock), except the mp3/ogg/flac WASM decoder chunks, which load only
 *   when the session's output format needs one (they are listed as lazy).
 * Per chunk and per input module (from each chunk's source map; for esbuild cross-checked with
 * its metafile) it says what costs what. A module's gzip figure is what the chunk's gzip loses
 * when that module's code alone is cut out of it: what moving it out of the chunk would save.
 * Those figures sum to less than the chunk (gzip shares repeated strings between modules).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SIZE_ENTRIES, type SizeEntry } from './budgets.ts';
import { BUNDLER_MODULE, BUNDLERS, type BuiltChunk, type Bundler, bundleEntry } from './bundleEntry.ts';
import { byteLength, without } from './sourceSpans.ts';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** When a chunk loads: with the page's import, at `start()`, or only when its format is used. */
export type ChunkLoad = 'import' | 'start' | 'lazy';

export interface Figure {
  minBytes: number;
  gzipBytes: number;
}

export interface ChunkMeasure extends Figure {
  fileName: string;
  load: ChunkLoad;
  /** The module with most bytes in it. */
  mainModule: string;
}

export interface ModuleMeasure extends Figure {
  /** `core/conversation/connection.js` for our packages' dist files, `zustand/esm/vanilla.mjs`… */
  module: string;
  /** The chunk(s) holding it (the bundler's own code is in each). */
  chunk: string;
  load: ChunkLoad;
}

export interface BuildMeasure {
  bundler: Bundler;
  atImport: Figure;
  withEngine: Figure;
  chunks: ChunkMeasure[];
  /** Modules of the chunks loaded at import and at start() (not the lazy ones), biggest gzip first. */
  modules: ModuleMeasure[];
}

export interface EntryMeasure {
  entry: SizeEntry;
  /** The entry file's code. */
  source: string;
  /** Why it was not measured (an import that the packages do not export yet). */
  skipped?: string;
  builds: Partial<Record<Bundler, BuildMeasure>>;
}

/** One line of the verdict: an entry by one bundler against its budget. */
export interface SizeResult {
  entry: string;
  bundler: Bundler;
  /** The entry's figures, or with `over` what it adds to the other entry. */
  atImportBytes: number;
  withEngineBytes: number;
  budget: { atImportBytes: number; withEngineBytes?: number };
  tolerated?: { atImportBytes: number; withEngineBytes: number };
  /** `over`: over budget but within the temporary ceiling (see SIZE_BUDGETS.widgetTolerated). */
  status: 'pass' | 'over' | 'fail';
}

export interface SizeReport {
  entries: EntryMeasure[];
  results: SizeResult[];
  durationMs: number;
}

const DECODER_MODULE =
  /\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(mpg123-decoder|@wasm-audio-decoders\/[^/]+)\//;

/** Measures `entries` (all of them by default) by both bundlers. The packages must be built. */
export async function measureSizes(entries: SizeEntry[] = SIZE_ENTRIES): Promise<SizeReport> {
  const started = performance.now();
  for (const pkg of ['core', 'react']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist', 'index.js'))) {
      throw new Error(`packages/${pkg}/dist is missing: run \`pnpm run build\` first`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'voicewire-size-'));
  try {
    // A consumer's layout: the entry beside a node_modules holding the packages (the workspace's,
    // whose @voicewire/* link to packages/*; bundlers follow the links and resolve `exports`).
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
    const measured: EntryMeasure[] = [];
    for (const [index, entry] of entries.entries()) {
      const source = entry.imports
        .map(({ from, names }) => `export { ${names.join(', ')} } from ${JSON.stringify(from)};\n`)
        .join('');
      const missing = entry.imports.find(({ from }) => !isExported(from));
      if (missing) {
        measured.push({
          entry,
          source,
          skipped: `${missing.from} is not in its package's exports yet`,
          builds: {},
        });
        continue;
      }
      const file = join(work, `entry${index}.js`);
      writeFileSync(file, source);
      const builds: EntryMeasure['builds'] = {};
      for (const bundler of BUNDLERS) {
        try {
          builds[bundler] = analyze(bundler, await bundleEntry(bundler, work, file));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`Size entry "${entry.name}" (${source.trim()}) by ${bundler}: ${message}`, {
            cause: error,
          });
        }
      }
      measured.push({ entry, source, builds });
    }
    return {
      entries: measured,
      results: judge(measured),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether `specifier`'s package lists its subpath in `exports` (as a consumer would resolve it). */
function isExported(specifier: string): boolean {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  const manifest = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return false;
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
  if (!exports) return subpath === '.';
  return Object.keys(exports).some((key) => {
    if (key === subpath) return true;
    const star = key.indexOf('*');
    return star !== -1 && subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1));
  });
}

function analyze(bundler: Bundler, chunks: BuiltChunk[]): BuildMeasure {
  const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]));
  const entries = chunks.filter((chunk) => chunk.isEntry);
  if (entries.length !== 1) throw new Error(`${bundler}: expected one entry chunk, found ${entries.length}`);
  for (const chunk of chunks) checkAttribution(bundler, chunk);

  const isDecoder = (chunk: BuiltChunk) => [...chunk.modules.keys()].some((id) => DECODER_MODULE.test(id));
  const load = new Map<string, ChunkLoad>();
  const visit = (name: string, as: ChunkLoad, followDynamic: boolean) => {
    const chunk = byName.get(name);
    if (!chunk || load.has(name)) return;
    load.set(name, as);
    for (const next of chunk.imports) visit(next, as, followDynamic);
    if (!followDynamic) return;
    for (const next of chunk.dynamicImports) {
      const target = byName.get(next);
      if (target && !isDecoder(target)) visit(next, 'start', true);
    }
  };
  visit(entries[0]!.fileName, 'import', false);
  // Then what import() reaches from there, every chunk loaded so far being a starting point.
  for (const name of [...load.keys()]) {
    for (const next of byName.get(name)!.dynamicImports) {
      const target = byName.get(next);
      if (target && !isDecoder(target)) visit(next, 'start', true);
    }
  }

  const measures: ChunkMeasure[] = [];
  const modules: ModuleMeasure[] = [];
  for (const chunk of chunks) {
    const chunkLoad = load.get(chunk.fileName) ?? 'lazy';
    const gzipBytes = gzip(chunk.code);
    let main = '';
    let mainBytes = -1;
    for (const [id, spans] of chunk.modules) {
      const minBytes = byteLength(chunk.code, spans);
      if (id !== BUNDLER_MODULE && minBytes > mainBytes) [main, mainBytes] = [id, minBytes];
      if (chunkLoad === 'lazy') continue;
      const saved = gzipBytes - gzip(without(chunk.code, spans));
      modules.push({
        module: moduleLabel(id, bundler),
        chunk: chunk.fileName,
        load: chunkLoad,
        minBytes,
        gzipBytes: saved,
      });
    }
    measures.push({
      fileName: chunk.fileName,
      load: chunkLoad,
      minBytes: Buffer.byteLength(chunk.code),
      gzipBytes,
      mainModule: moduleLabel(main || BUNDLER_MODULE, bundler),
    });
  }
  const sum = (loads: ChunkLoad[]): Figure => {
    const counted = measures.filter((m) => loads.includes(m.load));
    return {
      minBytes: counted.reduce((total, m) => total + m.minBytes, 0),
      gzipBytes: counted.reduce((total, m) => total + m.gzipBytes, 0),
    };
  };
  const order: Record<ChunkLoad, number> = { import: 0, start: 1, lazy: 2 };
  // One row per module and load: the bundler's own code is in every chunk.
  const merged = new Map<string, ModuleMeasure>();
  for (const m of modules) {
    const key = `${m.load} ${m.module}`;
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...m });
    else
      merged.set(key, {
        ...seen,
        chunk: `${seen.chunk}, ${m.chunk}`,
        minBytes: seen.minBytes + m.minBytes,
        gzipBytes: seen.gzipBytes + m.gzipBytes,
      });
  }
  return {
    bundler,
    atImport: sum(['import']),
    withEngine: sum(['import', 'start']),
    chunks: measures.sort((a, b) => order[a.load] - order[b.load] || b.gzipBytes - a.gzipBytes),
    modules: [...merged.values()].sort((a, b) => order[a.load] - order[b.load] || b.gzipBytes - a.gzipBytes),
  };
}

/**
 * Every input must be a built file, never a source (a resolution that picked the
 * `@voicewire/source` condition would measure TypeScript sources), and for esbuild the source
 * map's attribution must agree with the metafile's (the two differ only by where each counts the
 * chunk's import/export statements).
 */
function checkAttribution(bundler: Bundler, chunk: BuiltChunk): void {
  for (const id of chunk.modules.keys()) {
    if (id.startsWith(join(root, 'packages')) && /\/packages\/[^/]+\/src\//.test(id)) {
      throw new Error(`${bundler} built ${relative(root, id)}: a source file, where a consumer gets dist/`);
    }
  }
  if (!chunk.metafileBytes) return;
  let apart = 0;
  let total = 0;
  for (const [id, bytes] of chunk.metafileBytes) {
    apart += Math.abs(bytes - byteLength(chunk.code, chunk.modules.get(id) ?? []));
    total += bytes;
  }
  if (apart > Math.max(400, total * 0.05)) {
    throw new Error(
      `${bundler} ${chunk.fileName}: source map and metafile disagree by ${apart} of ${total} bytes`,
    );
  }
}

/** The verdict: each measured entry by each bundler against its budget. */
function judge(entries: EntryMeasure[]): SizeResult[] {
  const byName = new Map(entries.map((measured) => [measured.entry.name, measured]));
  const results: SizeResult[] = [];
  for (const { entry, builds, skipped } of entries) {
    if (skipped) continue;
    const base = entry.over === undefined ? undefined : byName.get(entry.over);
    if (entry.over !== undefined && !base?.builds.vite) {
      throw new Error(`${entry.name} is measured over ${entry.over}, which was not measured`);
    }
    for (const bundler of BUNDLERS) {
      const build = builds[bundler]!;
      const under = base?.builds[bundler];
      const atImportBytes = build.atImport.gzipBytes - (under?.atImport.gzipBytes ?? 0);
      const withEngineBytes = build.withEngine.gzipBytes - (under?.withEngine.gzipBytes ?? 0);
      const within = (limit: { atImportBytes: number; withEngineBytes?: number }) =>
        atImportBytes <= limit.atImportBytes &&
        (limit.withEngineBytes === undefined || withEngineBytes <= limit.withEngineBytes);
      const budget = { atImportBytes: entry.atImportBytes, withEngineBytes: entry.withEngineBytes };
      const tolerated = entry.tolerated ?? undefined;
      results.push({
        entry: entry.name,
        bundler,
        atImportBytes,
        withEngineBytes,
        budget,
        tolerated,
        status: within(budget) ? 'pass' : tolerated && within(tolerated) ? 'over' : 'fail',
      });
    }
  }
  return results;
}

function gzip(code: string): number {
  return gzipSync(code, { level: 9 }).length;
}

/** A short name: `core/…` and `react/…` for our dist files, the package path for dependencies. */
export function moduleLabel(id: string, bundler: Bundler): string {
  if (id === BUNDLER_MODULE) {
    // Vite's preload helper is a virtual module that its source maps leave out.
    return bundler === 'vite'
      ? '(Vite: imports, exports, module preload helper, __vite__mapDeps)'
      : '(esbuild: imports, exports, runtime helpers)';
  }
  if (id.includes('\0')) return `(${id.replace('\0', '')})`;
  const ours = /\/packages\/([^/]+)\/dist\/(.+)$/.exec(id);
  if (ours && id.startsWith(root)) return `${ours[1]}/${ours[2]}`;
  const dependency = /\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.+)$/.exec(id);
  return dependency ? dependency[1]! : relative(root, id);
}
