/** autocannon as a separate process (never in the bench's own event loop), optionally pinned to a CPU. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AUTOCANNON = require.resolve('autocannon/autocannon.js');

/**
 * Runs autocannon against `url` for `durationS` seconds with `connections` connections.
 * Resolves with requests/s (mean of its per-second samples), latency percentiles (ms) and errors.
 */
export function autocannon(url, { connections = 100, durationS = 5, cpu } = {}) {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(durationS), '-j', '-n', url];
  const [cmd, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        const j = JSON.parse(out);
        resolve({
          rps: j.requests.average,
          total: j.requests.total,
          p50: j.latency.p50,
          p90: j.latency.p90,
          p99: j.latency.p99,
          mean: j.latency.mean,
          errors: j.errors + j.timeouts,
          non2xx: j.non2xx,
        });
      } catch (error) {
        reject(new Error(`autocannon exited ${code}: ${error.message}\n${err}`));
      }
    });
  });
}
