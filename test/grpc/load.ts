/**
 * A gRPC load generator for rolling restarts: several grpc-js channels (each its own connection, as
 * separate client processes would have), an open loop of unary calls and server streams at fixed
 * rates, and every failure counted as the client saw it (status code and details). The channels
 * keep grpc-js's defaults — lazy connect, reconnect on GOAWAY, transparent retry of a call the
 * server refused unprocessed, no retry policy — so what fails here fails for a real client.
 */
import { greeterClient, sayHello, streamHellos, type RpcOutcome, type StreamOutcome } from './greeter.js';

export interface GrpcLoadOptions {
  /** `host:port` of the load balancer. */
  target: string;
  /** Channels, each with its own connection. @default 8 */
  channels?: number;
  /** Unary SayHello calls per second, in all. @default 60 */
  unaryPerSecond?: number;
  /** Each unary call asks for a delay drawn from this range, in ms. @default [0, 300] */
  unaryDelayMs?: readonly [number, number];
  /** StreamHellos calls per second, in all. @default 8 */
  streamsPerSecond?: number;
  /** Each stream: this many messages, this far apart. @default { count: 10, intervalMs: 50 } */
  stream?: { count: number; intervalMs: number };
  /** Deadline of every call, in ms. @default 10000 */
  deadlineMs?: number;
}

export interface GrpcFailureSample {
  /** Since the load began, in ms. */
  atMs: number;
  kind: 'unary' | 'stream';
  code: string;
  details: string;
}

export interface GrpcLoadSummary {
  unary: { sent: number; ok: number; failed: number };
  streams: { sent: number; ok: number; failed: number; messages: number };
  /** Failed calls by status code (a stream that ended OK but short counts as `SHORT`). */
  failures: Record<string, number>;
  /** The first failures, for the report. */
  samples: GrpcFailureSample[];
  /** Successful unary calls by the replica that answered. */
  byReplica: Record<string, number>;
  durationMs: number;
}

export interface GrpcLoad {
  stop(): Promise<GrpcLoadSummary>;
}

const MAX_SAMPLES = 20;

export function startGrpcLoad(options: GrpcLoadOptions): GrpcLoad {
  const channels = Array.from({ length: options.channels ?? 8 }, () =>
    // A local subchannel pool: otherwise grpc-js shares one connection between channels to the same target.
    greeterClient(options.target, { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const [minDelay, maxDelay] = options.unaryDelayMs ?? [0, 300];
  const stream = options.stream ?? { count: 10, intervalMs: 50 };
  const deadlineMs = options.deadlineMs ?? 10_000;
  const begun = performance.now();
  const summary: GrpcLoadSummary = {
    unary: { sent: 0, ok: 0, failed: 0 },
    streams: { sent: 0, ok: 0, failed: 0, messages: 0 },
    failures: {},
    samples: [],
    byReplica: {},
    durationMs: 0,
  };
  const inFlight = new Set<Promise<unknown>>();
  let next = 0;
  const channel = () => channels[next++ % channels.length]!;

  const fail = (kind: 'unary' | 'stream', code: string, details: string) => {
    summary.failures[code] = (summary.failures[code] ?? 0) + 1;
    if (summary.samples.length < MAX_SAMPLES) summary.samples.push({ atMs: Math.round(performance.now() - begun), kind, code, details });
  };

  const track = <T>(promise: Promise<T>, done: (value: T) => void) => {
    const p = promise.then(done);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  function unary(): void {
    summary.unary.sent += 1;
    const delayMs = minDelay + Math.floor(Math.random() * (maxDelay - minDelay + 1));
    track(sayHello(channel(), delayMs, deadlineMs), (outcome: RpcOutcome) => {
      if (outcome.ok) {
        summary.unary.ok += 1;
        const replica = outcome.replica.split('/').pop() ?? outcome.replica;
        summary.byReplica[replica] = (summary.byReplica[replica] ?? 0) + 1;
      } else {
        summary.unary.failed += 1;
        fail('unary', outcome.code, outcome.details);
      }
    });
  }

  function serverStream(): void {
    summary.streams.sent += 1;
    track(streamHellos(channel(), stream.count, stream.intervalMs, deadlineMs), (outcome: StreamOutcome) => {
      summary.streams.messages += outcome.items;
      if (outcome.ok) summary.streams.ok += 1;
      else {
        summary.streams.failed += 1;
        fail('stream', outcome.code === 'OK' ? 'SHORT' : outcome.code, `${outcome.items}/${stream.count} messages; ${outcome.details}`);
      }
    });
  }

  // Open loop: the rate does not slow down when a replica does.
  const timers = [
    setInterval(unary, 1000 / (options.unaryPerSecond ?? 60)),
    setInterval(serverStream, 1000 / (options.streamsPerSecond ?? 8)),
  ];

  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      for (const client of channels) client.close();
      summary.durationMs = performance.now() - begun;
      return summary;
    },
  };
}

export function failedCalls(summary: GrpcLoadSummary): number {
  return summary.unary.failed + summary.streams.failed;
}

export function formatLoad(summary: GrpcLoadSummary): string {
  const failures = Object.entries(summary.failures).map(([code, n]) => `${code}×${n}`).join(' ') || 'none';
  return [
    `unary ${summary.unary.sent} sent, ${summary.unary.failed} failed; streams ${summary.streams.sent} sent (${summary.streams.messages} messages), ${summary.streams.failed} failed; failures: ${failures}`,
    ...summary.samples.slice(0, 5).map((s) => `  ${s.atMs} ms ${s.kind} ${s.code}: ${s.details}`),
  ].join('\n');
}
