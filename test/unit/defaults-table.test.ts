/**
 * The README's options tables are what users configure from: every option must be documented
 * there with the default DEFAULTS really holds, and no default may be missing. Read from the
 * README and from the source, so the two cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../packages/lifecycle/src/defaults.js';
import { OPTION_NAMES } from '../../packages/lifecycle/src/resolve-options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the markdown table that follows `heading`, as cells. */
function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(heading);
  expect(start, `README has "${heading}"`).toBeGreaterThan(-1);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

/** The first `code` span of a cell, or undefined when the cell has none ("every interface"). */
function code(cell: string): string | undefined {
  return /`([^`]*)`/.exec(cell)?.[1];
}

/** How the README writes a value: 25000, 'worker', ['SIGTERM', 'SIGINT'], true. */
function written(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(written).join(', ')}]`;
  return String(value);
}

/** Every leaf of DEFAULTS as a dotted path. */
function leaves(value: object, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, inner] of Object.entries(value)) {
    const path = `${prefix}${key}`;
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) for (const [p, v] of leaves(inner, `${path}.`)) out.set(p, v);
    else out.set(path, inner);
  }
  return out;
}

const mainRows = new Map(tableAfter('All optional; every default lives in one object').map((row) => [code(row[0]!)!, row[2]!]));
const checkRows = new Map(tableAfter('Check options (`lifecycle.check(name, fn, options)`').map((row) => [code(row[0]!)!, row[2]!]));
const exitRows = new Map(tableAfter('## Exit codes').map((row) => [code(row[2]!)!, code(row[0]!)!]));

/** What the README shows as the default of a DEFAULTS path. */
function documented(path: string): string | undefined {
  const [head, tail] = path.split(/\.(.*)/s) as [string, string | undefined];
  if (head === 'checks' && tail) return checkRows.has(tail) ? code(checkRows.get(tail)!) : 'missing';
  if (head === 'exitCodes' && tail) return exitRows.get(path)?.replace(' + n', '') ?? 'missing';
  if (path === 'drainDelayMsInKubernetes') return code(mainRows.get('drainDelayMs') ?? '');
  if (path === 'drainDelayMsElsewhere') return [...(mainRows.get('drainDelayMs') ?? '').matchAll(/`([^`]*)`/g)][1]?.[1];
  if (path === 'terminationGracePeriodSecondsInKubernetes') return code(mainRows.get('terminationGracePeriodSeconds') ?? '');
  const cell = mainRows.get(path);
  return cell === undefined ? 'missing' : code(cell);
}

describe('the README options tables and DEFAULTS', () => {
  it.each([...leaves(DEFAULTS)])('documents %s with the default DEFAULTS holds', (path, value) => {
    const shown = documented(path);
    if (path === 'terminationMessagePath') expect(shown).toBe(value);
    else expect(shown).toBe(written(value));
  });

  it('documents every top-level option, and no option that does not exist', () => {
    const documentedTop = new Set([...mainRows.keys()].map((name) => name.split('.')[0]));
    expect([...documentedTop].sort()).toEqual([...OPTION_NAMES].sort());
  });

  it('documents every check option, and only those', () => {
    expect([...checkRows.keys()].sort()).toEqual(Object.keys(DEFAULTS.checks).sort());
  });
});
