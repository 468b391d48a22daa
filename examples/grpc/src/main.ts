/**
 * The Greeter service on grpc-js, run by podkit:
 *   start:    probe port → bind the gRPC port → a real Health/Check RPC to itself → (with
 *             UPSTREAM_ADDRESS) a real Health/Check RPC to the upstream Greeter → ready
 *   SIGTERM:  Health NOT_SERVING and /readyz 503 at once → drain delay (RPCs still served) → GOAWAY
 *             (tryShutdown): in-flight RPCs and streams finish → close the upstream client → exit 0
 * `node dist/main.js` is PID 1 in the container: podkit's handlers are what make SIGTERM work.
 */
import { credentials, Server } from '@grpc/grpc-js';
import { createJsonLogger, createLifecycle } from '@podkit/lifecycle';
import { grpcClientCheck, grpcClientWarmup, serveGrpc } from '@podkit/grpc';
import { readConfig } from './config.js';
import { GREETER_SERVICE, GreeterClient, greeterImplementation } from './greeter.js';

const config = readConfig();
const logger = createJsonLogger();
const lifecycle = createLifecycle({
  probes: { port: config.probePort, preStopToken: config.preStopToken },
  drainDelayMs: config.drainDelayMs,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  preStopSleepSeconds: config.preStopSleepSeconds,
  terminationGracePeriodSeconds: config.terminationGracePeriodSeconds,
  ...(config.terminationMessagePath ? { terminationMessagePath: config.terminationMessagePath } : {}),
  logger,
});

const server = new Server();
server.addService(GREETER_SERVICE, greeterImplementation);
// Registered first: the port is bound (and dialled once) before the other warmups run, and
// readiness stays NOT_SERVING until all of them are done. Health answers `""` and, for clients that
// ask about the service they call, `greeter.v1.Greeter`.
const grpc = serveGrpc(lifecycle, server, { address: `0.0.0.0:${config.port}`, health: { services: ['greeter.v1.Greeter'] } });

if (config.upstreamAddress) {
  const upstream = new GreeterClient(config.upstreamAddress, credentials.createInsecure());
  // A real RPC on the client's own channel before ready: an unreachable upstream exits 75 with the
  // reason in the termination message, instead of failing the first user call.
  lifecycle.warmup('upstream', grpcClientWarmup(upstream, { deadlineMs: 2000 }));
  // Reported (degraded), but it does not take this replica out: every replica shares the upstream.
  lifecycle.check('upstream', grpcClientCheck(upstream), { critical: false });
  lifecycle.onShutdown('upstream', () => upstream.close());
}

await lifecycle.start();
logger.info({ event: 'listening', grpcPort: grpc.port, probePort: lifecycle.probeAddress?.port }, `gRPC on port ${grpc.port}`);
