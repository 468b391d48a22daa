/**
 * Long-lived connections through rolling restarts on the kube-proxy model (the kernel's dataplane
 * in a network namespace of the test's own): WebSocket clients, Server-Sent Events readers (over
 * HTTP/1 and over HTTP/2) and HTTP/2 sessions making requests one after another, each reconnecting through the Service when
 * its connection is closed, while every replica is replaced. A Service with two ports: `http`
 * (VIP:80 → the pod's PORT: requests, SSE, WebSocket) and `h2c` (VIP:81 → PORT + 2000: HTTP/2).
 *
 * Pass: not one abnormal close (a WebSocket close other than 1001/1012, a reset, an SSE stream cut
 * short, an HTTP/2 request that failed or a session error), every client ended on a replica of the
 * last generation, every old replica exited 0 on its own. The negative control (the same service
 * without podkit, which dies on SIGTERM) must fail those checks, so passing means something.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runRollingRestart, tsReplica, type ReplicaSpec, type RollingRestartReport } from '../harness/index.js';
import { formatAbnormal, type LongLivedClientOptions, type LongLivedReport } from '../long-lived-clients.js';

const SERVICE = new URL('../fixtures/long-lived-service.ts', import.meta.url);
const CLIENTS: LongLivedClientOptions = { webSockets: 8, eventStreams: 6, http2Sessions: 4, http2EventStreams: 4 };
const TIMINGS = {
  /** Longer than the endpoint's lag: a client told to go away reconnects to a replica still in the rules only by chance, never to a closed listener. */
  drainDelayMs: 1500,
  endpointLagMs: 500,
  shutdownTimeoutMs: 8000,
  terminationGraceMs: 10_000,
  rounds: 2,
} as const;

function rollingRestart(replica: ReplicaSpec, rounds: number): Promise<RollingRestartReport> {
  return runRollingRestart({
    label: replica.name,
    model: 'kube-proxy',
    replica,
    rounds,
    endpointLagMs: TIMINGS.endpointLagMs,
    terminationGraceMs: TIMINGS.terminationGraceMs,
    steadyLoadMs: 1500,
    servicePorts: [{ name: 'h2c', port: 81, targetPortOffset: 2000 }],
    clients: { module: new URL('../long-lived-clients.ts', import.meta.url).href, export: 'longLivedClients', options: CLIENTS },
    load: { requests: [{ name: 'get', path: '/' }], ratePerSecond: 40, requestTimeoutMs: 5000, maxDurationMs: 90_000 },
  });
}

describe('long-lived connections under rolling restarts, through kube-proxy\'s iptables dataplane', () => {
  it('WebSocket, SSE and HTTP/2 clients see only clean goodbyes (1001, end of stream, GOAWAY), all reconnect to new replicas, and every old replica exits 0', async () => {
    const report = await rollingRestart(
      tsReplica('longlived', SERVICE, {
        env: { DRAIN_DELAY_MS: String(TIMINGS.drainDelayMs), SHUTDOWN_TIMEOUT_MS: String(TIMINGS.shutdownTimeoutMs), CLOSE_WINDOW_MS: '1000', SSE_RETRY_MS: '200' },
        readiness: { port: 'probe', path: '/readyz' },
      }),
      TIMINGS.rounds,
    );
    const clients = report.clients as LongLivedReport;
    const timeline = report.timeline.map((e) => `${e.atMs} ms ${e.event}`).join('\n');
    console.log(formatReport(report));
    const byKind = (kind: string) => clients.clients.filter((c) => c.kind === kind);
    console.log(
      `[measure] long-lived rolling restart (${TIMINGS.rounds} rounds × 2 replicas): ${clients.abnormal.length} abnormal closes; ` +
        `WebSocket closes by code ${JSON.stringify(clients.webSocketCloseCodes)}; SSE clean ends ${byKind('sse').reduce((n, c) => n + c.cleanCloses, 0)} (over HTTP/2: ${byKind('http2-sse').reduce((n, c) => n + c.cleanCloses, 0)}); ` +
        `HTTP/2 ${byKind('http2').reduce((n, c) => n + c.requests, 0)} requests ok, GOAWAYs ${byKind('http2').reduce((n, c) => n + c.cleanCloses, 0)}, ` +
        `refused unprocessed and retried ${byKind('http2').reduce((n, c) => n + c.retried, 0)} (SSE over HTTP/2: ${byKind('http2-sse').reduce((n, c) => n + c.retried, 0)}); ` +
        `SIGTERM→exit ${report.terminations.map((t) => Math.round(t.elapsedMs)).join(', ')} ms`,
    );

    expect(formatAbnormal(clients), timeline).toBe('');
    expect(report.load.failed, timeline).toBe(0);
    expect(clients.clients).toHaveLength(22);

    // The replicas of the last generation are the ones still running at the end.
    const finalIds = new Set(report.finalTerminations.map((t) => report.replicaAddresses[t.replica]));
    const firstIds = new Set(Object.values(report.replicaAddresses).slice(0, 2));
    for (const client of clients.clients) {
      const seen = JSON.stringify(client);
      expect(client.replicas.length, seen).toBeGreaterThan(1);
      expect(firstIds.has(client.replicas[0]!), seen).toBe(true);
      expect(finalIds.has(client.replicas.at(-1)!), seen).toBe(true);
      // Each connection of the old generations ended with its clean signal.
      expect(client.cleanCloses, seen).toBeGreaterThanOrEqual(1);
    }
    for (const client of byKind('http2')) expect(client.requests).toBeGreaterThan(50);

    expect(report.terminations).toHaveLength(TIMINGS.rounds * 2);
    for (const termination of [...report.terminations, ...report.finalTerminations]) {
      expect(termination, JSON.stringify(report.failedReplicaOutput, null, 1)).toMatchObject({ code: 0, signal: null, killed: false });
      expect(termination.elapsedMs).toBeGreaterThanOrEqual(TIMINGS.drainDelayMs);
      // Streams and WebSockets never hold the exit to the shutdown's deadline.
      expect(termination.elapsedMs).toBeLessThan(TIMINGS.drainDelayMs + 3000);
    }
  });

  it('negative control: the same service without podkit, dying on SIGTERM, cuts its clients (1006, streams cut short, HTTP/2 errors)', async () => {
    const report = await rollingRestart(tsReplica('bare-longlived', SERVICE, { env: { PODKIT: '0' }, readiness: { port: 'main', path: '/readyz' } }), 1);
    const clients = report.clients as LongLivedReport;
    console.log(`[measure] long-lived rolling restart without podkit (1 round × 2 replicas): ${clients.abnormal.length} abnormal closes: ${[...new Set(clients.abnormal.map((a) => `${a.kind} ${a.what}`))].join('; ')}`);
    const kinds = new Set(clients.abnormal.map((a) => a.kind));
    // WebSocket and SSE clients are always connected, so a kill always cuts them; an HTTP/2 client
    // making requests back to back may be between requests at the kill, so HTTP/2 is required as a
    // whole (a cut request or a reset SSE-over-HTTP/2 stream), not each of its two kinds.
    expect(kinds).toContain('websocket');
    expect(kinds).toContain('sse');
    expect(kinds.has('http2') || kinds.has('http2-sse'), [...kinds].join(', ')).toBe(true);
    expect(clients.webSocketCloseCodes['1006']).toBeGreaterThan(0);
    for (const termination of report.terminations) expect(termination.signal).toBe('SIGTERM');
  });
});
