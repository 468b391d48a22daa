/**
 * @podkit/grpc: grpc-js servers and clients under @podkit/lifecycle.
 *
 *   serveGrpc(lifecycle, server, { address: '0.0.0.0:50051' });   // bind, self-check, health v1, drain
 *   lifecycle.warmup('inventory', grpcClientWarmup(inventoryClient, { deadlineMs: 2000 }));
 *   await lifecycle.start();
 *
 * Every timing and state decision is the core's; this package only translates it into gRPC.
 */
export { GRPC_DEFAULTS } from './defaults.js';
export { grpcClientCheck, grpcClientWarmup } from './client.js';
export type { GrpcClientCheckOptions, GrpcClientWarmupOptions } from './client.js';
export { GrpcHealthError, HEALTH_SERVICE } from './health-protocol.js';
export type { HealthCheckRequest, HealthCheckResponse, ServingStatus } from './health-protocol.js';
export type { HealthOptions } from './health-service.js';
export { GrpcBindError, serveGrpc } from './serve.js';
export type { GrpcServing, SelfCheckOptions, ServeGrpcOptions } from './serve.js';
