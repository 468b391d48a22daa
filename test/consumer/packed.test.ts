/**
 * What each tarball holds, as `pnpm pack` (and so `pnpm publish`) makes it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackages, PACKAGES, REPO } from './project.js';

const ROOT = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };

describe('the packed packages', () => {
  let packed: Awaited<ReturnType<typeof packPackages>>;
  let unpacked: string;
  beforeAll(async () => {
    packed = await packPackages();
    unpacked = await mkdtemp(join(tmpdir(), 'podkit-unpacked-'));
    for (const pkg of PACKAGES) {
      await mkdir(join(unpacked, pkg));
      execFileSync('tar', ['-xzf', packed.tarballs[pkg], '-C', join(unpacked, pkg)]);
    }
  }, 120_000);
  afterAll(async () => {
    await rm(packed.dir, { recursive: true, force: true });
    await rm(unpacked, { recursive: true, force: true });
  });

  for (const pkg of PACKAGES) {
    it(`@podkit/${pkg} ships its build, README, CHANGELOG and the repository's LICENSE, and no sources`, () => {
      const files = execFileSync('tar', ['-tzf', packed.tarballs[pkg]], { encoding: 'utf8' }).trim().split('\n').sort();
      for (const file of ['package/package.json', 'package/README.md', 'package/CHANGELOG.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']) {
        expect(files).toContain(file);
      }
      expect(files.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(f))).toEqual([]);
      expect(files.filter((f) => f.includes('.tsbuildinfo'))).toEqual([]);
      expect(readFileSync(join(unpacked, pkg, 'package', 'LICENSE'), 'utf8')).toBe(readFileSync(join(REPO, 'LICENSE'), 'utf8'));
    });

    it(`@podkit/${pkg} declares the MIT license, the supported Node versions, and no workspace: range`, () => {
      const manifest = JSON.parse(readFileSync(join(unpacked, pkg, 'package', 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest.license).toBe('MIT');
      expect(readFileSync(join(unpacked, pkg, 'package', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
      expect(manifest.engines).toEqual({ node: ROOT.engines.node });
      expect(JSON.stringify(manifest)).not.toContain('workspace:');
    });
  }
});
