// Lint: strict TypeScript over every package, the examples and the tests, then publint and
// are-the-types-wrong on each publishable package as packed (the tarball users install, not the
// source tree). The packages are ESM only (CommonJS callers use require(esm), on by default and
// without a warning on every supported Node, from 22.13), hence attw's esm-only profile.
import { spawnSync } from 'node:child_process';

const run = (cmd, args, cwd) => spawnSync(cmd, args, { stdio: 'inherit', cwd }).status ?? 1;

let failed = run('pnpm', ['run', 'typecheck']);
for (const pkg of ['lifecycle', 'express', 'fastify', 'grpc']) {
  failed ||= run('pnpm', ['exec', 'publint', '--strict'], `packages/${pkg}`);
  failed ||= run('pnpm', ['exec', 'attw', '--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped'], `packages/${pkg}`);
}
process.exit(failed);
