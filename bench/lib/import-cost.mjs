/**
 * Run in a fresh process (node --expose-gc import-cost.mjs <module> [start|start-main]): how long
 * importing <module> takes and how much memory it adds. With "start", also createLifecycle +
 * start() of @podkit/lifecycle (probe listener on port 0, no main server) with the probe listener
 * in its worker thread (the default); "start-main" the same with `probes.thread: 'main'`. Heap is
 * the main thread's (a worker's isolate has its own heap, which only RSS shows); CPU time is the
 * whole process's (all threads) during start(). Prints one JSON line.
 */
const [moduleName, extra] = process.argv.slice(2);
const settle = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage();
};
const before = settle();
const t0 = performance.now();
const mod = await import(moduleName);
const importMs = performance.now() - t0;
const afterImport = settle();
const result = {
  module: moduleName,
  importMs,
  heapKiB: (afterImport.heapUsed - before.heapUsed) / 1024,
  rssKiB: (afterImport.rss - before.rss) / 1024,
};
if (extra === 'start' || extra === 'start-main') {
  const thread = extra === 'start-main' ? 'main' : 'worker';
  const t1 = performance.now();
  // CPU time of every thread of the process: what start() costs however loaded the machine is.
  const cpu1 = process.cpuUsage();
  const lifecycle = mod.createLifecycle({ probes: { port: 0, host: '127.0.0.1', thread }, logger: false, exit: false, terminationMessagePath: false });
  await lifecycle.start();
  result.startMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu1);
  result.startCpuMs = (cpu.user + cpu.system) / 1000;
  const afterStart = settle();
  result.startHeapKiB = (afterStart.heapUsed - afterImport.heapUsed) / 1024;
  result.startRssKiB = (afterStart.rss - afterImport.rss) / 1024;
  await lifecycle.stop();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
