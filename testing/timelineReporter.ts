import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

interface ModuleSpan {
  project: string;
  file: string;
  startS: number;
  endS: number;
}

/**
 * A vitest reporter (beside the default one, `pnpm test:unit` uses both) that records when each
 * test file started and ended, relative to the run's start, and prints each project's span at the
 * end: which project ends last is the run's critical path. The spans go to
 * artifacts/vitest-timeline.json.
 */
export default class TimelineReporter implements Reporter {
  private readonly started = performance.now();
  private readonly starts = new Map<string, number>();
  private readonly spans: ModuleSpan[] = [];
  private root = process.cwd();

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
  }

  onTestModuleStart(testModule: TestModule): void {
    this.starts.set(key(testModule), this.seconds());
  }

  onTestModuleEnd(testModule: TestModule): void {
    const startS = this.starts.get(key(testModule)) ?? this.seconds();
    this.spans.push({
      project: testModule.project.name,
      file: relative(this.root, testModule.moduleId),
      startS,
      endS: this.seconds(),
    });
  }

  onTestRunEnd(): void {
    if (this.spans.length === 0) return;
    const projects = new Map<string, { startS: number; endS: number; busyS: number; files: number }>();
    for (const span of this.spans) {
      const entry = projects.get(span.project) ?? {
        startS: span.startS,
        endS: span.endS,
        busyS: 0,
        files: 0,
      };
      entry.startS = Math.min(entry.startS, span.startS);
      entry.endS = Math.max(entry.endS, span.endS);
      entry.busyS += span.endS - span.startS;
      entry.files++;
      projects.set(span.project, entry);
    }
    const rows = [...projects].sort(([, a], [, b]) => a.startS - b.startS || a.endS - b.endS);
    const width = Math.max(...rows.map(([name]) => name.length));
    const lines = rows.map(
      ([name, p]) =>
        `  ${name.padEnd(width)}  ${fmt(p.startS)} → ${fmt(p.endS)}  (${p.files} files, ${fmt(p.busyS)} s in files)`,
    );
    console.log(
      `\nTimeline (s from the run's start; the last to end is the critical path)\n${lines.join('\n')}`,
    );
    const dir = join(this.root, 'artifacts');
    mkdirSync(dir, { recursive: true });
    const spans = [...this.spans].sort((a, b) => a.startS - b.startS);
    writeFileSync(join(dir, 'vitest-timeline.json'), `${JSON.stringify({ spans }, null, 2)}\n`);
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

function key(testModule: TestModule): string {
  return `${testModule.project.name}\u0000${testModule.moduleId}`;
}

function fmt(seconds: number): string {
  return seconds.toFixed(1).padStart(6);
}
