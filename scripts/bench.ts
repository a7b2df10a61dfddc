/**
 * `pnpm bench [--check] [filter...]`: runs every benchmark module in scripts/bench/*.ts (sorted by
 * name; `types.ts` and files starting with `_` are helpers, not benchmarks; {@link OPT_IN_MODULES}
 * only when named), prints each section
 * as an aligned table and writes all of them to artifacts/bench.json. With filters, only modules
 * whose file name contains one of them run, and their sections replace those modules' entries in
 * the existing JSON. A module that throws is reported and the run goes on; the exit code is then 1.
 *
 * Every run ends with the targets the sections declare (`checks`), measured beside target. With
 * `--check` (the test command runs it), a missed target also makes the exit code 1.
 *
 * Timings are wall-clock on a shared machine: each module measures best-of-N to reduce noise, and
 * a target on a time is checked as a ratio against a reference measured in the same run.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchCheck, type BenchModule, type BenchSection, meets } from './bench/types.ts';

interface ModuleResult {
  module: string;
  durationMs: number;
  sections: BenchSection[];
  error?: string;
}

interface BenchReport {
  generatedAt: string;
  node: string;
  cpu: string;
  modules: ModuleResult[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Modules that run only when a filter names them: the echo rig's (`pnpm bench echo`) plays
 * minutes of real-time audio per engine, and its targets are not met in every engine yet (see
 * the core README, "Echo guard").
 */
const OPT_IN_MODULES = new Set(['echo.ts']);
const benchDir = join(root, 'scripts', 'bench');
const outputFile = join(root, 'artifacts', 'bench.json');

/** Format one section as a text table: columns holding numbers right-aligned, others left-aligned. */
function formatSection(section: BenchSection): string {
  const cells = [section.headers, ...section.rows].map((row) => row.map((cell) => formatCell(cell)));
  const columns = Math.max(...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...cells.map((row) => (row[c] ?? '').length)),
  );
  const numeric = Array.from(
    { length: columns },
    (_, c) => section.rows.length > 0 && section.rows.some((row) => typeof row[c] === 'number'),
  );
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [
    section.title,
    '='.repeat(section.title.length),
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
  ];
  for (const row of cells.slice(1)) out.push(line(row));
  for (const note of section.notes ?? []) out.push(`  * ${note}`);
  return out.join('\n');
}

function formatCell(cell: string | number | undefined): string {
  if (cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return String(cell);
  if (Number.isInteger(cell)) return String(cell);
  const magnitude = Math.abs(cell);
  return cell.toFixed(magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 0.1 ? 2 : 3);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const check = args.includes('--check');
  const filters = args.filter((arg) => arg !== '--check');
  const files = readdirSync(benchDir)
    .filter(
      (file) =>
        file.endsWith('.ts') && file !== 'types.ts' && !file.startsWith('_') && !file.endsWith('.d.ts'),
    )
    .sort();
  const selected = files.filter((file) =>
    filters.length === 0 ? !OPT_IN_MODULES.has(file) : filters.some((f) => file.includes(f)),
  );
  if (selected.length === 0) {
    console.error(`No benchmark module matches ${filters.join(', ')}; available: ${files.join(', ')}`);
    return 1;
  }

  const results: ModuleResult[] = [];
  let failed = false;
  for (const file of selected) {
    const module = basename(file, '.ts');
    console.log(`\n### ${module}\n`);
    const started = performance.now();
    try {
      const imported = (await import(pathToFileURL(join(benchDir, file)).href)) as Partial<BenchModule>;
      if (typeof imported.run !== 'function') throw new Error(`${file} does not export run()`);
      const sections = (await imported.run()) as BenchSection[];
      if (!Array.isArray(sections)) throw new Error(`${file}: run() must resolve to an array of sections`);
      for (const section of sections) console.log(`${formatSection(section)}\n`);
      results.push({ module, durationMs: Math.round(performance.now() - started), sections });
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`[bench] ${module} failed:\n${message}\n`);
      results.push({
        module,
        durationMs: Math.round(performance.now() - started),
        sections: [],
        error: message,
      });
    }
  }

  let modules = results;
  if (filters.length > 0) {
    // Keep the other modules' last results so a filtered run does not erase them.
    try {
      const previous = JSON.parse(readFileSync(outputFile, 'utf8')) as BenchReport;
      const rerun = new Set(results.map((r) => r.module));
      const existing = new Set(files.map((file) => basename(file, '.ts')));
      const kept = previous.modules.filter((m) => !rerun.has(m.module) && existing.has(m.module));
      modules = [...kept, ...results].sort((a, b) => a.module.localeCompare(b.module));
    } catch {
      // No earlier report (or an unreadable one): write just this run.
    }
  }
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    modules,
  };
  mkdirSync(dirname(outputFile), { recursive: true });
  writeFileSync(outputFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Wrote ${outputFile}${failed ? ' (some modules failed: see above)' : ''}`);

  const checks = results.flatMap((result) =>
    result.sections.flatMap((section) =>
      (section.checks ?? []).map((c) => ({ module: result.module, ...c })),
    ),
  );
  const missed = checks.filter((c) => !meets(c));
  if (checks.length > 0) console.log(`\n${formatSection(targetsSection(checks))}\n`);
  if (check) {
    if (missed.length > 0) console.error(`[bench] ${missed.length} of ${checks.length} targets missed.`);
    else if (!failed) console.log(`[bench] all ${checks.length} targets met.`);
    return failed || missed.length > 0 ? 1 : 0;
  }
  return failed ? 1 : 0;
}

/** Every declared target, measured beside target. */
function targetsSection(checks: (BenchCheck & { module: string })[]): BenchSection {
  return {
    title: 'Targets',
    headers: ['module', 'measure', 'measured', 'target', 'met'],
    rows: checks.map((c) => [
      c.module,
      c.name,
      c.measured,
      [c.atLeast !== undefined ? `≥ ${c.atLeast}` : '', c.atMost !== undefined ? `≤ ${c.atMost}` : '']
        .filter(Boolean)
        .join(', '),
      meets(c) ? 'yes' : 'NO',
    ]),
  };
}

process.exitCode = await main();
