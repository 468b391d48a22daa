/**
 * Where a service's CPU goes, from a V8 sampling profile (`node --cpu-prof`): the share of busy
 * samples (idle excluded) spent in podkit's code, counting the Node internals and builtins podkit
 * calls as podkit's (each sample belongs to the nearest frame that comes from a file on disk:
 * podkit, the framework, or the app). It is a ratio within one process and one time window, so it
 * holds up on a noisy machine better than requests per second do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PODKIT = /\/packages\/(lifecycle|express|fastify)\/dist\/|\/@podkit\//;

export function podkitShareOfProfile(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const owner = new Map();
  const ownerOf = (id) => {
    if (owner.has(id)) return owner.get(id);
    let result = 'runtime';
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const { url, functionName } = nodes.get(cur).callFrame;
      if (cur === id && functionName === '(idle)') {
        result = 'idle';
        break;
      }
      if (url.startsWith('file://')) {
        result = PODKIT.test(url) ? 'podkit' : 'other';
        break;
      }
    }
    owner.set(id, result);
    return result;
  };
  const totals = { podkit: 0, other: 0, runtime: 0, idle: 0 };
  profile.samples.forEach((id, i) => {
    totals[ownerOf(id)] += profile.timeDeltas[i] ?? 0;
  });
  const busy = totals.podkit + totals.other + totals.runtime;
  return { podkitShare: totals.podkit / busy, busyMs: busy / 1000 };
}
