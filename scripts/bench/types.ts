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
  /**
   * The targets this section's figures are held to. `pnpm bench --check` prints them all and
   * exits non-zero when one is missed. A figure that depends on wall-clock time on a shared
   * machine is checked as a ratio against a reference measured in the same run, never as an
   * absolute time.
   */
  checks?: BenchCheck[];
}

/** One target: `measured` must be at least `atLeast` and/or at most `atMost`. */
export interface BenchCheck {
  /** What is measured, e.g. "48 → 16 kHz: worst alias rejection (dB)". */
  name: string;
  measured: number;
  atLeast?: number;
  atMost?: number;
}

/** Whether `check` meets its target. */
export function meets(check: BenchCheck): boolean {
  if (!Number.isFinite(check.measured)) return false;
  if (check.atLeast !== undefined && !(check.measured >= check.atLeast)) return false;
  if (check.atMost !== undefined && !(check.measured <= check.atMost)) return false;
  return true;
}

/** What a benchmark module exports. */
export interface BenchModule {
  run(): Promise<BenchSection[]>;
}
