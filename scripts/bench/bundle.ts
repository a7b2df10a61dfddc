/**
 * Bundle size of what an integrator ships for a voice widget (`useAgentConversation` +
 * `TalkButton` + `Transcript` from @voicewire/react) and what each provider entry adds to it,
 * beside the peers' figures in the README's "Measured" table. The figures, breakdowns and budgets
 * are the size check's (`pnpm size`, scripts/size/): the built packages (dist/, built first)
 * bundled by Vite 8 and by esbuild with code splitting as a site's bundler does, gzip -9 chunk by
 * chunk, at import and with the audio engine that loads at `start()`.
 *
 * The test command measures the sizes on a fresh build just before the benchmark (`pnpm size`):
 * there `VOICEWIRE_SIZE_REPORT` names that report (artifacts/size.json), which is read rather than
 * built and measured a second time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { measureSizes, root, type SizeReport } from '../size/measure.ts';
import { kb, sizeChecks, sizeSections } from '../size/sizeSections.ts';
import type { BenchSection } from './types.ts';

const PEERS: [string, string, string][] = [
  ['@elevenlabs/react useConversation', '163 KB', ''],
  ['@humeai/voice-react useVoice', '62 KB', ''],
  ['Pipecat client (React)', '133 KB', ''],
  ['@play-ai/agent-web-sdk connectAgent', '240 KB', '+ 10 MB WASM fetched at run time'],
];

async function sizeReport(): Promise<SizeReport> {
  const measured = process.env.VOICEWIRE_SIZE_REPORT;
  if (measured) return JSON.parse(readFileSync(resolve(root, measured), 'utf8')) as SizeReport;
  // The published build, fresh: what `npm install @voicewire/react` gives a site.
  execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return measureSizes();
}

export async function run(): Promise<BenchSection[]> {
  const report = await sizeReport();
  const [verdict, ...breakdowns] = sizeSections(report);
  const widget = report.entries.find((measured) => measured.entry.name === 'widget')!;
  const ours = (['vite', 'esbuild'] as const).map((bundler) => {
    const build = widget.builds[bundler]!;
    return [
      `voicewire (${bundler === 'vite' ? 'Vite 8' : 'esbuild split'})`,
      `${kb(build.atImport.gzipBytes).trim()} KB`,
      `at import; ${kb(build.withEngine.gzipBytes).trim()} KB with the audio engine loaded at start()`,
    ];
  });
  const peers: BenchSection = {
    title: 'Bundle: useAgentConversation + TalkButton + Transcript (React external, minified + gzip)',
    headers: ['library', 'gzip', 'notes'],
    rows: [...ours, ...PEERS],
    notes: [
      "Peers' figures are those of the README's Measured table (their main hook/entry, React external).",
      'Ours: the size check below, whose verdict holds the budgets; the WASM decoder chunks are not counted.',
    ],
  };
  return [peers, { ...verdict!, checks: sizeChecks(report) }, ...breakdowns];
}
