/** The commands the harness sends to its agent inside the namespace, and the agent's answers. */
import type { LoadOptions, LoadSummary, LoadTarget, RequestMix, RequestSpec } from './load.js';

/** Load options that can travel to another process: no functions. */
export type PortableLoadOptions = Omit<LoadOptions, 'host' | 'port' | 'requests'>;

export type AgentCommand =
  | { id: number; op: 'probe'; host: string; port: number; path?: string; timeoutMs: number }
  | { id: number; op: 'forward'; port: number; socketPath: string }
  | { id: number; op: 'start-load'; host: string; port: number; requests: RequestSpec[] | RequestMix; options: PortableLoadOptions; attribute: boolean }
  | { id: number; op: 'stop-load' }
  | { id: number; op: 'start-clients'; clients: ClientsModule; targets: Record<string, LoadTarget> }
  | { id: number; op: 'stop-clients' }
  | { id: number; op: 'exit' };

export type AgentReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface StoppedLoad {
  summary: LoadSummary;
  /** With `attribute`: the endpoint (`ip:port`) conntrack saw each client port's connection go to. */
  endpointByClientPort: Record<string, string>;
}

/**
 * Clients that hold connections open (WebSocket, SSE, HTTP/2 sessions) through a rolling restart,
 * run where the load runs: a module whose export (`export`, default `default`) is a
 * `StartClients`. `options` travel as JSON.
 */
export interface ClientsModule {
  module: string;
  export?: string;
  options?: unknown;
}

/** Started with the Service's targets by port name (`http`, and each extra service port's name). */
export type StartClients = (targets: Record<string, LoadTarget>, options: unknown) => RunningClients | Promise<RunningClients>;

export interface RunningClients {
  /** Closes every client; resolves with the clients' own report (JSON). */
  stop(): Promise<unknown>;
}
