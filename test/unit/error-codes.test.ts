/**
 * The README's Errors table is the list users grep their logs against: it must name every code the
 * packages can throw, and no code they cannot. Read from the sources, so neither can drift.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CODE = /ERR_PODKIT_[A-Z_]+/g;

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    for (const file of readdirSync(src, { recursive: true }) as string[]) {
      if (file.endsWith('.ts')) files.push(join(src, file));
    }
  }
  return files;
}

/** Codes in the README's "### Errors" table (first column). */
function documentedCodes(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split('### Errors')[1]?.split('\n#')[0] ?? '';
  return [...section.matchAll(/^\| `(ERR_PODKIT_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('error codes', () => {
  it('the README Errors table lists exactly the codes the sources use, each once', () => {
    const used = new Set<string>();
    for (const file of sourceFiles()) {
      // The declaration of the union itself does not count as a use.
      if (file.endsWith(join('lifecycle', 'src', 'errors.ts'))) continue;
      for (const match of readFileSync(file, 'utf8').matchAll(CODE)) used.add(match[0]);
    }
    // TimeoutError and InvalidOptionError set their codes in errors.ts.
    used.add('ERR_PODKIT_TIMEOUT');
    used.add('ERR_PODKIT_INVALID_OPTION');
    const documented = documentedCodes();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...used].sort());
  });

  it('the PodkitErrorCode type declares exactly the documented codes', () => {
    const errors = readFileSync(join(root, 'packages', 'lifecycle', 'src', 'errors.ts'), 'utf8');
    const union = errors.split('export type PodkitErrorCode =')[1]?.split(';')[0] ?? '';
    const declared = [...union.matchAll(/'(ERR_PODKIT_[A-Z_]+)'/g)].map((m) => m[1]!);
    expect(declared.sort()).toEqual(documentedCodes().sort());
  });
});
