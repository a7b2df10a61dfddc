/**
 * What the size check measures and the budgets it holds them to (`pnpm size`, `pnpm bench
 * bundle`; how it measures is in `measure.ts`). Bytes of gzip -9, summed chunk by chunk, as each
 * bundler (Vite and esbuild with code splitting) emits them; KB = 1,000 bytes.
 */

/** The size budgets, each held by both bundlers. */
export const SIZE_BUDGETS = {
  /** The widget's import: the entry chunk and every chunk it imports statically. */
  widgetAtImportBytes: 15_000,
  /**
   * The widget with everything a call loads at `start()` (or `preload()`): the engine that runs
   * the call, the default provider's protocol (PlayAI's), the capture and player with their
   * worklet sources; the mp3/ogg/flac WASM decoders excepted. Each chunk is gzipped on its own,
   * and Vite's library build keeps whitespace, so this reads above the single-file figure the
   * size check used before issue 18 (27.4 KB for less code); the budget guards against growth.
   * 44 KB since the echo guard (issue 21; core README, "Echo guard"): its DSP (a 512-point FFT,
   * band analysis, delay tracking) is in the minified capture worklet source every call loads,
   * about 2.7 KB gzip.
   */
  widgetWithEngineBytes: 44_000,
  /** What one provider entry adds at import to a page that has the widget. */
  providerAtImportBytes: 3_000,
  /** Set while an import exceeds its budget for a known reason: over budget up to here warns. */
  widgetTolerated: null as { atImportBytes: number; withEngineBytes: number } | null,
};

/** One consumer's import, built as an entry file of `export { … } from '…'` lines. */
export interface SizeEntry {
  /** Its name in tables and in artifacts/size.json. */
  name: string;
  imports: { from: string; names: string[] }[];
  /** The entry whose figures are subtracted: this one's budget is on what it adds to that one. */
  over?: string;
  /** Budget at import (of the difference, with `over`). */
  atImportBytes: number;
  /** Budget with the audio engine, if it has one. */
  withEngineBytes?: number;
  tolerated?: { atImportBytes: number; withEngineBytes: number } | null;
}

const WIDGET = {
  from: '@voicewire/react',
  names: ['useAgentConversation', 'TalkButton', 'Transcript'],
};

/**
 * Provider entries (issues 19 and 20): `@voicewire/core/<subpath>` exporting `<factory>`. One
 * whose subpath is not yet in @voicewire/core's `exports` is skipped with a note.
 */
const PROVIDERS: [subpath: string, factory: string][] = [
  ['playai', 'playai'],
  ['openai', 'openaiRealtime'],
  ['elevenlabs', 'elevenlabs'],
  ['gemini', 'geminiLive'],
  ['deepgram', 'deepgramAgent'],
  ['hume', 'humeEvi'],
];

export const SIZE_ENTRIES: SizeEntry[] = [
  {
    name: 'widget',
    imports: [WIDGET],
    atImportBytes: SIZE_BUDGETS.widgetAtImportBytes,
    withEngineBytes: SIZE_BUDGETS.widgetWithEngineBytes,
    tolerated: SIZE_BUDGETS.widgetTolerated,
  },
  ...PROVIDERS.map(([subpath, factory]) => ({
    name: `+ ${subpath}`,
    imports: [WIDGET, { from: `@voicewire/core/${subpath}`, names: [factory] }],
    over: 'widget',
    atImportBytes: SIZE_BUDGETS.providerAtImportBytes,
  })),
];
