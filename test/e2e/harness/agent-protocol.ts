/** The commands the harness sends to its agent inside the namespace, and the agent's answers. */
import type { LoadOptions, LoadSummary, RequestMix, RequestSpec } from './load.js';

/** Load options that can travel to another process: no functions. */
export type PortableLoadOptions = Omit<LoadOptions, 'host' | 'port' | 'requests'>;

export type AgentCommand =
  | { id: number; op: 'probe'; host: string; port: number; path?: string; timeoutMs: number }
  | { id: number; op: 'forward'; port: number; socketPath: string }
  | { id: number; op: 'start-load'; host: string; port: number; requests: RequestSpec[] | RequestMix; options: PortableLoadOptions; attribute: boolean }
  | { id: number; op: 'stop-load' }
  | { id: number; op: 'exit' };

export type AgentReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface StoppedLoad {
  summary: LoadSummary;
  /** With `attribute`: the endpoint (`ip:port`) conntrack saw each client port's connection go to. */
  endpointByClientPort: Record<string, string>;
}
