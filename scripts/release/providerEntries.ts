/**
 * The provider entries of `@voicewire/core` the release check imports in every fixture: each one
 * the installed package exports (its `package.json` `exports`, as npm installed it from the
 * tarball) is imported and its factory called in plain Node, in the Vite app's built page and in
 * the Next.js app's server and client components; each one it does not export yet is skipped with
 * a note, so an entry lights up here as soon as the package gains it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProviderEntry {
  /** The demo's and the relay's name for it. */
  id: string;
  /** The package subpath. */
  entry: string;
  /** The factory the entry exports. */
  factory: string;
  /** What the check passes the factory. */
  options: Record<string, unknown>;
  /**
   * The options are type-checked in the apps. False for a provider the check knows only by its
   * announced name: its options are cast (and a refusal to start is a note, not a failure) until
   * this table is given their shape.
   */
  typed: boolean;
  /** The service's path (on the local agent, a relay or the vendor). */
  path: string;
}

export const PROVIDER_ENTRIES: readonly ProviderEntry[] = [
  {
    id: 'playai',
    entry: '@voicewire/core/playai',
    factory: 'playai',
    options: { agentId: 'fixture-agent' },
    typed: true,
    path: '/v1/talk',
  },
  {
    id: 'openai',
    entry: '@voicewire/core/openai',
    factory: 'openaiRealtime',
    options: { model: 'gpt-realtime', voice: 'marin' },
    typed: true,
    path: '/v1/realtime',
  },
  {
    id: 'elevenlabs',
    entry: '@voicewire/core/elevenlabs',
    factory: 'elevenlabs',
    options: { agentId: 'fixture-agent', overrides: { language: 'en' } },
    typed: true,
    path: '/v1/convai/conversation',
  },
  {
    id: 'gemini',
    entry: '@voicewire/core/gemini',
    factory: 'geminiLive',
    options: { model: 'gemini-live-2.5-flash-preview' },
    typed: true,
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
  },
  {
    id: 'deepgram',
    entry: '@voicewire/core/deepgram',
    factory: 'deepgramAgent',
    options: {},
    typed: true,
    path: '/v1/agent/converse',
  },
  {
    id: 'hume',
    entry: '@voicewire/core/hume',
    factory: 'humeEvi',
    options: { configId: 'fixture-config' },
    typed: true,
    path: '/v0/evi/chat',
  },
];

export interface ProviderSplit {
  present: ProviderEntry[];
  missing: ProviderEntry[];
}

/** Which entries the `@voicewire/core` installed in a fixture exports. */
export function installedProviders(fixtureDir: string): ProviderSplit {
  const manifest = JSON.parse(
    readFileSync(join(fixtureDir, 'node_modules', '@voicewire', 'core', 'package.json'), 'utf8'),
  ) as { exports?: Record<string, unknown> };
  const exported = new Set(Object.keys(manifest.exports ?? {}));
  const has = (entry: ProviderEntry) => exported.has(entry.entry.replace('@voicewire/core', '.'));
  return {
    present: PROVIDER_ENTRIES.filter(has),
    missing: PROVIDER_ENTRIES.filter((entry) => !has(entry)),
  };
}

/** Where each fixture reads the list from. */
const GENERATED: Record<'node' | 'vite-app' | 'next-app', string> = {
  node: 'providers.generated.json',
  'vite-app': 'src/providers.generated.ts',
  'next-app': 'app/providers.generated.ts',
};

/** Write the fixture's list of the present entries (and the names of the missing ones). */
export function writeProviderModule(
  fixture: keyof typeof GENERATED,
  fixtureDir: string,
  { present, missing }: ProviderSplit,
): void {
  const file = join(fixtureDir, GENERATED[fixture]);
  if (fixture === 'node') {
    writeFileSync(
      file,
      `${JSON.stringify({ providers: present, notExported: missing.map((e) => e.id) }, null, 2)}\n`,
    );
    return;
  }
  const call = (e: ProviderEntry) => {
    const options = JSON.stringify(e.options);
    return e.typed
      ? `${e.factory}(${options})`
      : `${e.factory}(${options} as unknown as Parameters<typeof ${e.factory}>[0])`;
  };
  const lines = [
    "// Written by scripts/release/check.ts from the installed @voicewire/core's exports: the",
    '// provider entries it has. NOT_EXPORTED: those the check knows of that it does not have yet.',
    "import type { Provider } from '@voicewire/core';",
    ...present.map((e) => `import { ${e.factory} } from '${e.entry}';`),
    '',
    'export interface FixtureProvider {',
    '  id: string;',
    '  entry: string;',
    '  path: string;',
    '  typed: boolean;',
    '  provider: Provider;',
    '}',
    '',
    'export const PROVIDERS: FixtureProvider[] = [',
    ...present.map(
      (e) =>
        `  { id: '${e.id}', entry: '${e.entry}', path: '${e.path}', typed: ${e.typed}, provider: ${call(e)} },`,
    ),
    '];',
    '',
    `export const NOT_EXPORTED: string[] = ${JSON.stringify(missing.map((e) => e.id))};`,
    '',
    '/** The socket a provider opens on `origin` (no credential), or why it refused to start. */',
    'export async function socketUrl(',
    '  entry: FixtureProvider,',
    '  origin: string,',
    '): Promise<{ url: string } | { refused: string }> {',
    '  const session = await entry.provider.start({',
    '    url: origin + entry.path,',
    '    input: {},',
    '    output: {},',
    '    continueConversation: undefined,',
    "    turnTaking: 'vad',",
    '  });',
    "  if (typeof session === 'string') return { refused: session };",
    '  return { url: session.socket({ apiKey: undefined, token: undefined }, undefined).url };',
    '}',
    '',
  ];
  writeFileSync(file, lines.join('\n'));
}

/**
 * What the check expects an app to show for each present entry, given the lines it rendered
 * (`<li data-provider=id>name: url`): the URL on the service's path, or (for a provider whose
 * options the check only guesses) a refusal. Returns the problems, empty when all is well.
 */
export function providerListProblems(
  shown: Record<string, string>,
  { present }: ProviderSplit,
  origin: string,
): string[] {
  const problems: string[] = [];
  for (const entry of present) {
    const text = shown[entry.id];
    if (text === undefined) problems.push(`${entry.id}: not shown`);
    else if (text.includes(`: ${origin}${entry.path}`)) continue;
    else if (!(text.includes(': refused: ') && !entry.typed)) problems.push(`${entry.id}: "${text}"`);
  }
  const extra = Object.keys(shown).filter((id) => !present.some((entry) => entry.id === id));
  if (extra.length > 0) problems.push(`shown but not exported: ${extra.join(', ')}`);
  return problems;
}
