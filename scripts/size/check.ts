/**
 * `pnpm size` (after `pnpm run build`): measures every entry of `budgets.ts` by Vite and by
 * esbuild with code splitting (`measure.ts`), prints the verdict and the breakdowns, writes the
 * whole report to artifacts/size.json, and exits non-zero when a figure misses its budget.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BenchSection } from '../bench/types.ts';
import { measureSizes, root } from './measure.ts';
import { sizeSections } from './sizeSections.ts';

const outputFile = join(root, 'artifacts', 'size.json');

/** A section as an aligned text table: number columns right-aligned, the rest left-aligned. */
function formatSection(section: BenchSection): string {
  const cells = [section.headers, ...section.rows].map((row) => row.map((cell) => String(cell ?? '')));
  const columns = Math.max(...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...cells.map((row) => (row[c] ?? '').length)),
  );
  const numeric = Array.from({ length: columns }, (_, c) =>
    section.rows.some((row) => typeof row[c] === 'number'),
  );
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [
    section.title,
    '='.repeat(section.title.length),
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    ...(section.notes ?? []).map((note) => `  * ${note}`),
  ].join('\n');
}

const report = await measureSizes();
const [verdict, ...breakdowns] = sizeSections(report);
// The breakdowns first, so that the verdict ends the output.
for (const section of [...breakdowns, verdict!]) console.log(`\n${formatSection(section)}`);
mkdirSync(dirname(outputFile), { recursive: true });
writeFileSync(outputFile, `${JSON.stringify(report, null, 2)}\n`);

const failed = report.results.filter((result) => result.status === 'fail');
const over = report.results.filter((result) => result.status === 'over');
console.log(`\nWrote ${outputFile}`);
if (failed.length > 0) {
  console.error(`[size] ${failed.length} of ${report.results.length} figures over budget.`);
  process.exitCode = 1;
} else {
  console.log(
    `[size] all ${report.results.length} figures within budget` +
      (over.length > 0 ? `, ${over.length} of them only within the temporary ceiling.` : '.'),
  );
}
