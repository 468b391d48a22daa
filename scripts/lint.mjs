// Lint: strict TypeScript over every package, the examples and the tests, then publint on each
// publishable package as packed (the tarball users install, not the source tree).
import { spawnSync } from 'node:child_process';

const run = (cmd, args, cwd) => spawnSync(cmd, args, { stdio: 'inherit', cwd }).status ?? 1;

let failed = run('pnpm', ['run', 'typecheck']);
for (const pkg of ['lifecycle', 'express', 'fastify']) {
  failed ||= run('pnpm', ['exec', 'publint', '--strict'], `packages/${pkg}`);
}
process.exit(failed);
