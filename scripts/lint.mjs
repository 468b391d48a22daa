// Lint: strict TypeScript over every package and the tests is the linter podkit relies on.
import { spawnSync } from 'node:child_process';
const r = spawnSync('pnpm', ['run', 'typecheck'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
