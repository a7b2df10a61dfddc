/**
 * The size report as tables (the bench's `BenchSection`s): `pnpm size` and `pnpm bench bundle`
 * print the same ones, and the bench holds the same budgets as `checks`.
 */
import type { BenchCheck, BenchSection } from '../bench/types.ts';
import { SIZE_BUDGETS } from './budgets.ts';
import type { Bundler } from './bundleEntry.ts';
import type { BuildMeasure, EntryMeasure, ModuleMeasure, SizeReport, SizeResult } from './measure.ts';

const BUNDLER_NAMES: Record<Bundler, string> = { vite: 'Vite 8', esbuild: 'esbuild split' };

/** KB (1,000 bytes) with two decimals, padded so that a column of them lines up. */
export const kb = (bytes: number) => (bytes / 1000).toFixed(2).padStart(6);
const kbNumber = (bytes: number) => Math.round(bytes / 10) / 100;

export function sizeSections(report: SizeReport): BenchSection[] {
  const widget = report.entries.find((measured) => measured.entry.name === 'widget');
  const sections = [resultsSection(report)];
  if (widget?.builds.vite && widget.builds.esbuild) {
    sections.push(
      chunksSection(widget.builds.vite),
      chunksSection(widget.builds.esbuild),
      modulesSection(widget.builds.vite, widget.builds.esbuild),
    );
  }
  for (const measured of report.entries) {
    if (measured.entry.over && !measured.skipped) sections.push(addedSection(measured, report));
  }
  return sections;
}

/** The bench's targets: every verdict line, at its effective limit (the ceiling while tolerated). */
export function sizeChecks(report: SizeReport): BenchCheck[] {
  return report.results.flatMap((result) => {
    const label = `${result.entry} by ${BUNDLER_NAMES[result.bundler]}: gzip KB`;
    const limit = result.tolerated ?? result.budget;
    const note = result.tolerated
      ? ` (budget ${kb(result.budget.atImportBytes).trim()}; tolerated for now)`
      : '';
    const checks: BenchCheck[] = [
      {
        name: `${label} ${result.budget.withEngineBytes === undefined && result.entry !== 'widget' ? 'added ' : ''}at import${note}`,
        measured: kbNumber(result.atImportBytes),
        atMost: kbNumber(limit.atImportBytes),
      },
    ];
    if (limit.withEngineBytes !== undefined && result.budget.withEngineBytes !== undefined) {
      checks.push({
        name: `${label} with the engine${result.tolerated ? ` (budget ${kb(result.budget.withEngineBytes).trim()}; tolerated for now)` : ''}`,
        measured: kbNumber(result.withEngineBytes),
        atMost: kbNumber(limit.withEngineBytes),
      });
    }
    return checks;
  });
}

function resultsSection(report: SizeReport): BenchSection {
  const rows: (string | number)[][] = report.results.map((result) => {
    const added = result.entry !== 'widget';
    const sign = added ? '+' : ' ';
    return [
      result.entry,
      BUNDLER_NAMES[result.bundler],
      `${sign}${kb(result.atImportBytes)}`,
      `${sign}${kb(result.withEngineBytes)}`,
      budgetCell(result),
      verdictCell(result),
    ];
  });
  const skipped = report.entries.filter((measured) => measured.skipped);
  return {
    title: 'Size check: gzip -9 KB loaded, chunk by chunk, of the built packages (React external)',
    headers: ['entry', 'bundler', 'at import', 'with engine', 'budget (import / engine)', 'result'],
    rows,
    notes: [
      "`widget`: `import { useAgentConversation, TalkButton, Transcript } from '@voicewire/react'`; " +
        '`+ <provider>`: that and `@voicewire/core/<provider>`, minus the widget (what the provider adds).',
      'At import: the entry chunk and every chunk it imports statically. With engine: plus the chunks ' +
        'import() reaches (the call engine, the provider protocol and the audio engine, loaded at start() ' +
        'or preload()), the mp3/ogg/flac WASM decoders excepted.',
      'Vite 8: a library build (build.lib, ES, minify; its ES output keeps whitespace for the next ' +
        'bundler, so it reads above an app build). esbuild: bundle, splitting, esm, minify.',
      ...(SIZE_BUDGETS.widgetTolerated
        ? [
            `TEMPORARY: the widget may exceed its budgets up to ${kb(SIZE_BUDGETS.widgetTolerated.atImportBytes).trim()} / ` +
              `${kb(SIZE_BUDGETS.widgetTolerated.withEngineBytes).trim()} KB (SIZE_BUDGETS.widgetTolerated in ` +
              'scripts/size/budgets.ts, where the reason is: the echo guard of issue 21, in the capture worklet).',
          ]
        : []),
      ...skipped.map((measured) => `${measured.entry.name}: skipped, ${measured.skipped}.`),
      `Measured in ${(report.durationMs / 1000).toFixed(1)} s.`,
    ],
  };
}

function budgetCell(result: SizeResult): string {
  const { atImportBytes, withEngineBytes } = result.budget;
  return withEngineBytes === undefined
    ? `${kb(atImportBytes).trim()} added`
    : `${kb(atImportBytes).trim()} / ${kb(withEngineBytes).trim()}`;
}

function verdictCell(result: SizeResult): string {
  if (result.status === 'pass') return 'pass';
  const over = [
    result.atImportBytes > result.budget.atImportBytes
      ? `import +${kb(result.atImportBytes - result.budget.atImportBytes).trim()}`
      : '',
    result.budget.withEngineBytes !== undefined && result.withEngineBytes > result.budget.withEngineBytes
      ? `engine +${kb(result.withEngineBytes - result.budget.withEngineBytes).trim()}`
      : '',
  ]
    .filter(Boolean)
    .join(', ');
  return result.status === 'over' ? `OVER (${over}; tolerated for now)` : `FAIL (${over})`;
}

function chunksSection(build: BuildMeasure): BenchSection {
  return {
    title: `widget by ${BUNDLER_NAMES[build.bundler]}: chunks`,
    headers: ['chunk', 'loads', 'biggest module', 'min KB', 'gzip KB'],
    rows: build.chunks.map((chunk) => [
      chunk.fileName,
      chunk.load === 'start' ? 'at start()' : chunk.load === 'lazy' ? 'lazy (decoder)' : 'at import',
      chunk.mainModule,
      kb(chunk.minBytes),
      kb(chunk.gzipBytes),
    ]),
    notes: [
      `At import ${kb(build.atImport.gzipBytes).trim()} KB gzip (${kb(build.atImport.minBytes).trim()} min); ` +
        `with the engine ${kb(build.withEngine.gzipBytes).trim()} KB (${kb(build.withEngine.minBytes).trim()} min).`,
    ],
  };
}

/** The widget's modules, both bundlers side by side, in the Vite build's order. */
function modulesSection(vite: BuildMeasure, esbuild: BuildMeasure): BenchSection {
  // Keyed by when it loads too: esbuild loads at import some modules that Vite loads at start().
  const key = (m: ModuleMeasure) => `${m.load} ${m.module}`;
  const other = new Map(esbuild.modules.map((m) => [key(m), m]));
  const rows: (string | number)[][] = [];
  for (const m of vite.modules) {
    const e = other.get(key(m));
    other.delete(key(m));
    rows.push([m.module, loadCell(m), m.minBytes, m.gzipBytes, e?.minBytes ?? '', e?.gzipBytes ?? '']);
  }
  for (const e of other.values()) {
    const at = rows.findLastIndex((row) => row[1] === loadCell(e));
    rows.splice(at + 1, 0, [e.module, loadCell(e), '', '', e.minBytes, e.gzipBytes]);
  }
  return {
    title: 'widget: bytes by module (at import, then at start()), biggest gzip first by Vite',
    headers: ['module', 'loads', 'Vite min', 'Vite gzip', 'esbuild min', 'esbuild gzip'],
    rows,
    notes: [
      'min: the module’s bytes in its minified chunk (from the source map). gzip: what the chunk’s ' +
        'gzip loses when that module’s code alone is cut out, i.e. what moving it out of the chunk saves; ' +
        'these sum to less than the chunk, as gzip shares repeated strings between modules.',
      'core/… and react/… are the built files of @voicewire/core and @voicewire/react (dist/). A module ' +
        'listed for one bundler only is loaded by the other at another time (or not at all).',
      "The bundler's own code: import/export statements, esbuild's runtime helpers, Vite's module " +
        'preload helper and `__vite__mapDeps` (the chunks each import() preloads; the helper is shipped ' +
        'once per app, for all its import()s).',
    ],
  };
}

/** What a provider entry adds to the widget: the modules it loads at import that the widget does not. */
function addedSection(measured: EntryMeasure, report: SizeReport): BenchSection {
  const base = report.entries.find((other) => other.entry.name === measured.entry.over);
  const added = (bundler: Bundler) => {
    const before = new Set(
      (base?.builds[bundler]?.modules ?? []).filter((m) => m.load === 'import').map((m) => m.module),
    );
    return new Map(
      (measured.builds[bundler]?.modules ?? [])
        .filter((m) => m.load === 'import' && !before.has(m.module))
        .map((m): [string, ModuleMeasure] => [m.module, m]),
    );
  };
  const vite = added('vite');
  const esbuild = added('esbuild');
  const names = [...new Set([...vite.keys(), ...esbuild.keys()])];
  return {
    title: `${measured.entry.name}: modules it adds to the widget's import`,
    headers: ['module', 'Vite min', 'Vite gzip', 'esbuild min', 'esbuild gzip'],
    rows: names
      .map((name) => [
        name,
        vite.get(name)?.minBytes ?? '',
        vite.get(name)?.gzipBytes ?? '',
        esbuild.get(name)?.minBytes ?? '',
        esbuild.get(name)?.gzipBytes ?? '',
      ])
      .sort((a, b) => Number(b[2] || b[4] || 0) - Number(a[2] || a[4] || 0)),
    notes: [
      'Modules the widget already loads at import are not listed (their bytes move a little as names are mangled anew).',
    ],
  };
}

function loadCell(m: ModuleMeasure): string {
  return m.load === 'import' ? 'at import' : 'at start()';
}
