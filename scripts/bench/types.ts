/**
 * The shape every benchmark module returns. `scripts/bench.ts` loads each `scripts/bench/*.ts`,
 * calls its `run()` and prints each section as an aligned table (and writes them all to
 * `artifacts/bench.json`).
 */
export interface BenchSection {
  /** One line above the table, e.g. "Resampler, 48 kHz → 16 kHz". */
  title: string;
  headers: string[];
  /** Numbers are right-aligned, strings left-aligned. */
  rows: (string | number)[][];
  /** Lines printed under the table: method, caveats, what the targets mean. */
  notes?: string[];
}

/** What a benchmark module exports. */
export interface BenchModule {
  run(): Promise<BenchSection[]>;
}
