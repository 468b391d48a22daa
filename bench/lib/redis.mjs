/**
 * A private redis-server on a free port, started and killed by the bench: the shared Redis on 6379
 * is never touched.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './util.mjs';

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.startsWith('+PONG'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(data.startsWith('+PONG')));
  });
}

/** Starts redis-server on `port`; resolves once it answers PING. */
export async function startPrivateRedis(port) {
  if (port === 6379) throw new Error('the shared Redis on 6379 is off limits');
  const dir = mkdtempSync(join(tmpdir(), 'podkit-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = performance.now() + 5000;
  while (!(await ping(port))) {
    if (performance.now() > deadline || child.exitCode !== null) throw new Error(`private redis-server on ${port} did not start`);
    await sleep(20);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** The outage: SIGKILL, as a crashed or unreachable Redis. Resolves once the process is gone. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
