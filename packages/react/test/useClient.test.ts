// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

/**
 * React Server Components: a module that calls hooks or creates a context must be a client
 * module. The build keeps each source's `'use client'` at the top of its file in dist/
 * (packages/react/tsdown.config.ts), so the directive in the source is what a Next.js page gets.
 */
const src = fileURLToPath(new URL('../src', import.meta.url));
const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
const CLIENT_ONLY = /\b(use[A-Z]\w*|createContext)\b/;

/** The value bindings a module imports from 'react' (type-only imports left out). */
function reactValueImports(code: string): string[] {
  const names: string[] = [];
  for (const match of code.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+['"]react['"]/g)) {
    if (match[1]) continue;
    for (const part of match[2]!.split(',')) {
      const name = part.trim();
      if (name && !name.startsWith('type ')) names.push(name.split(/\s+as\s+/)[0]!);
    }
  }
  return names;
}

describe("'use client'", () => {
  test('the sources are found', () => {
    expect(files).toContain('TalkButton.tsx');
  });

  test.each(files)('%s starts with it if it uses hooks or a context', (file) => {
    const code = readFileSync(join(src, file), 'utf8');
    const clientApis = reactValueImports(code).filter((name) => CLIENT_ONLY.test(name));
    const directive = /^'use client';/.test(code);
    if (clientApis.length > 0) expect(directive, `${file} imports ${clientApis.join(', ')}`).toBe(true);
  });
});
