/**
 * Memory headroom of the container, read from its cgroup, so that a heap snapshot is refused
 * instead of getting the pod OOM-killed. The cgroup root is an option (`cgroupRoot`) so that tests
 * can point it at a directory of their own.
 *
 * Inside a container with its own cgroup namespace (the default with cgroup v2 on containerd and
 * CRI-O) `/sys/fs/cgroup` is the container's own cgroup: v2 has `memory.max` and `memory.current`
 * there, v1 `memory/memory.limit_in_bytes` and `memory/memory.usage_in_bytes`. Usage counts page
 * cache; its inactive part is what the kernel reclaims before it OOM-kills, so it is subtracted,
 * as the kubelet does for its "working set".
 * https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Taking a heap snapshot needs about twice the heap in use at that moment (Node's documentation
 * of `v8.writeHeapSnapshot` and `--heapsnapshot-near-heap-limit`), outside the JS heap.
 */
export const HEAP_SNAPSHOT_FACTOR = 2;

/** cgroup v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); anything this large means none. */
const V1_UNLIMITED = 2 ** 60;

export interface MemoryLimit {
  limitBytes: number;
  /** Usage less reclaimable page cache. */
  usageBytes: number;
  headroomBytes: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function statField(stat: string | undefined, field: string): number {
  const match = stat === undefined ? null : new RegExp(`^${field} (\\d+)$`, 'm').exec(stat);
  return match ? Number(match[1]) : 0;
}

function limitOf(limit: number, usage: number, inactiveFile: number): MemoryLimit {
  const usageBytes = Math.max(0, usage - inactiveFile);
  return { limitBytes: limit, usageBytes, headroomBytes: Math.max(0, limit - usageBytes) };
}

/** The container's memory limit and headroom, or undefined when it has no limit (or none can be read: no cgroup). */
export function readMemoryLimit(cgroupRoot: string): MemoryLimit | undefined {
  const v2Max = read(join(cgroupRoot, 'memory.max'));
  if (v2Max !== undefined) {
    const current = Number(read(join(cgroupRoot, 'memory.current')));
    if (v2Max === 'max' || !Number.isFinite(Number(v2Max)) || !Number.isFinite(current)) return undefined;
    return limitOf(Number(v2Max), current, statField(read(join(cgroupRoot, 'memory.stat')), 'inactive_file'));
  }
  const v1 = join(cgroupRoot, 'memory');
  const v1Limit = Number(read(join(v1, 'memory.limit_in_bytes')));
  const v1Usage = Number(read(join(v1, 'memory.usage_in_bytes')));
  if (!Number.isFinite(v1Limit) || !Number.isFinite(v1Usage) || v1Limit >= V1_UNLIMITED) return undefined;
  return limitOf(v1Limit, v1Usage, statField(read(join(v1, 'memory.stat')), 'total_inactive_file'));
}

/** Why a heap snapshot of a heap using `heapUsedBytes` would not fit, or undefined when it fits (or nothing limits it). */
export function heapSnapshotRefusal(cgroupRoot: string, heapUsedBytes: number): { reason: string; neededBytes: number; limit: MemoryLimit } | undefined {
  const limit = readMemoryLimit(cgroupRoot);
  const neededBytes = HEAP_SNAPSHOT_FACTOR * heapUsedBytes;
  if (limit === undefined || limit.headroomBytes >= neededBytes) return undefined;
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  return {
    neededBytes,
    limit,
    reason: `a heap snapshot needs about ${mib(neededBytes)} (${HEAP_SNAPSHOT_FACTOR} x ${mib(heapUsedBytes)} of heap in use), and the container has ${mib(limit.headroomBytes)} left of its ${mib(limit.limitBytes)} limit`,
  };
}
