/**
 * Docker cannot run here and there is no cluster, so the examples' Dockerfile and manifests are
 * held to what they must say: node as PID 1 as a non-root user, probes on the probe port, and a
 * shutdown budget that fits in the grace period. Plus the e2e timings themselves: the load
 * balancer must learn of a termination well within the drain delay, or the e2e would test luck.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { E2E_TIMINGS } from './example-suite.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function envValue(yaml: string, name: string): string {
  const match = new RegExp(`name: ${name}, value: "([^"]*)"`).exec(yaml);
  if (!match) throw new Error(`env ${name} not found`);
  return match[1]!;
}

function number(yaml: string, pattern: RegExp): number {
  const match = pattern.exec(yaml);
  if (!match) throw new Error(`${pattern} not found`);
  return Number(match[1]);
}

const FRAMEWORKS = ['express', 'fastify'] as const;

describe("the examples' container image (examples/Dockerfile)", () => {
  const dockerfile = read('examples/Dockerfile');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));

  it('runs node itself as PID 1 (exec form), as the unprivileged node user, from a multi-stage build', () => {
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(instructions.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    expect(instructions.filter((l) => l.startsWith('USER ')).at(-1)).toBe('USER node');
    expect(instructions.some((l) => /^(CMD|ENTRYPOINT) .*\b(npm|pnpm|yarn)\b/.test(l))).toBe(false);
    expect(instructions.some((l) => /^ENTRYPOINT /.test(l))).toBe(false);
  });

  it('installs, builds and deploys the example named by --build-arg EXAMPLE, refusing any other', () => {
    const buildStage = instructions.slice(instructions.findIndex((l) => l.startsWith('FROM ')), instructions.findLastIndex((l) => l.startsWith('FROM ')));
    expect(buildStage).toContain('ARG EXAMPLE');
    const runs = buildStage.filter((l) => l.startsWith('RUN pnpm '));
    expect(runs.find((l) => l.includes(' install '))).toContain('--frozen-lockfile --filter "@podkit/example-${EXAMPLE}..."');
    expect(runs.find((l) => l.includes(' run build'))).toContain('--filter "@podkit/example-${EXAMPLE}"');
    expect(runs.find((l) => l.includes(' deploy '))).toContain('--filter "@podkit/example-${EXAMPLE}" deploy --prod');
    // The check comes before any work, and names exactly the examples there are.
    const check = buildStage.findIndex((l) => l.startsWith('RUN case "$EXAMPLE" in express|fastify|grpc)'));
    expect(check).toBeGreaterThan(buildStage.indexOf('ARG EXAMPLE'));
    expect(check).toBeLessThan(buildStage.findIndex((l) => l.startsWith('RUN pnpm ')));
  });

  it('takes the shared @podkit/example-orders along, as a workspace dependency of each example', () => {
    for (const framework of FRAMEWORKS) {
      const manifest = JSON.parse(read(`examples/${framework}/package.json`)) as { name: string; dependencies: Record<string, string> };
      expect(manifest.name).toBe(`@podkit/example-${framework}`);
      // `--filter "<example>..."` installs workspace dependencies, and `pnpm deploy` copies them in.
      expect(manifest.dependencies['@podkit/example-orders']).toBe('workspace:*');
    }
  });
});

for (const framework of FRAMEWORKS) {
  describe(`the ${framework} example's manifests`, () => {
    it('probes /startupz, /readyz and /livez on the probe port, and publishes only the main port', () => {
      const deployment = read(`examples/${framework}/k8s/deployment.yaml`);
      const service = read(`examples/${framework}/k8s/service.yaml`);
      expect(deployment).toContain('{ name: probes, containerPort: 9000 }');
      expect(envValue(deployment, 'PROBE_PORT')).toBe('9000');
      expect(envValue(deployment, 'PORT')).toBe('3000');
      for (const [probe, path] of [['startupProbe', '/startupz'], ['readinessProbe', '/readyz'], ['livenessProbe', '/livez']]) {
        expect(deployment).toMatch(new RegExp(`${probe}:\\n\\s+httpGet: \\{ path: ${path}, port: probes \\}`));
      }
      expect(service).toContain('targetPort: http');
      expect(service).not.toContain('probes');
    });

    it('runs the image that the docker build in its README makes from examples/Dockerfile', () => {
      const readme = read(`examples/${framework}/README.md`);
      const deployment = read(`examples/${framework}/k8s/deployment.yaml`);
      const built = new RegExp(`docker build -f examples/Dockerfile --build-arg EXAMPLE=${framework} -t (\\S+) \\.`).exec(readme);
      expect(built, 'the README says how to build the image').not.toBeNull();
      expect(deployment).toContain(`image: ${built![1]}\n`);
    });

    it('gives podkit a shutdown budget that ends before the kubelet SIGKILLs the pod', () => {
      const deployment = read(`examples/${framework}/k8s/deployment.yaml`);
      const graceSeconds = number(deployment, /terminationGracePeriodSeconds: (\d+)/);
      const drainDelayMs = Number(envValue(deployment, 'DRAIN_DELAY_MS'));
      const shutdownTimeoutMs = Number(envValue(deployment, 'SHUTDOWN_TIMEOUT_MS'));
      expect(drainDelayMs).toBeGreaterThan(0);
      // shutdownTimeoutMs bounds the drain delay, the drain and the hooks together…
      expect(drainDelayMs).toBeLessThan(shutdownTimeoutMs);
      // …so it alone, with the second of margin podkit asks for, must end before SIGKILL.
      expect(shutdownTimeoutMs + 1000).toBeLessThanOrEqual(graceSeconds * 1000);
      // podkit checks the same at start-up, from the value it is told.
      expect(Number(envValue(deployment, 'TERMINATION_GRACE_PERIOD_SECONDS'))).toBe(graceSeconds);
    });
  });
}

describe('the e2e timings', () => {
  it('let both load-balancer models stop sending new work well before the drain delay ends', () => {
    const t = E2E_TIMINGS;
    expect(t.endpointLagMs).toBeLessThan(t.drainDelayMs / 2);
    // HAProxy needs `fall` failed checks, each up to an interval apart, plus the check itself.
    expect(t.healthCheck.intervalMs * (t.healthCheck.fall + 1)).toBeLessThan(t.drainDelayMs / 2);
    expect(t.drainDelayMs).toBeLessThan(t.shutdownTimeoutMs);
    expect(t.shutdownTimeoutMs).toBeLessThan(t.terminationGraceMs);
  });
});

describe("the grpc example's manifests", () => {
  const deployment = read('examples/grpc/k8s/deployment.yaml');
  const service = read('examples/grpc/k8s/service.yaml');

  it('probes readiness with the kubelet\'s gRPC probe on the gRPC port (a number: gRPC probes take no port name), startup and liveness on the probe port', () => {
    const port = envValue(deployment, 'PORT');
    expect(deployment).toContain(`{ name: grpc, containerPort: ${port} }`);
    expect(deployment).toMatch(new RegExp(`readinessProbe:\\n\\s+grpc: \\{ port: ${port}, service: "" \\}`));
    expect(deployment).toMatch(/startupProbe:\n\s+httpGet: \{ path: \/startupz, port: probes \}/);
    expect(deployment).toMatch(/livenessProbe:\n\s+httpGet: \{ path: \/livez, port: probes \}/);
    expect(envValue(deployment, 'PROBE_PORT')).toBe('9000');
    expect(service).toContain('targetPort: grpc');
    expect(service).not.toContain('probes');
  });

  it('gives podkit a shutdown budget that ends before the kubelet SIGKILLs the pod', () => {
    const graceSeconds = number(deployment, /terminationGracePeriodSeconds: (\d+)/);
    const drainDelayMs = Number(envValue(deployment, 'DRAIN_DELAY_MS'));
    const shutdownTimeoutMs = Number(envValue(deployment, 'SHUTDOWN_TIMEOUT_MS'));
    expect(drainDelayMs).toBeGreaterThan(0);
    expect(drainDelayMs).toBeLessThan(shutdownTimeoutMs);
    expect(shutdownTimeoutMs + 1000).toBeLessThanOrEqual(graceSeconds * 1000);
    expect(Number(envValue(deployment, 'TERMINATION_GRACE_PERIOD_SECONDS'))).toBe(graceSeconds);
  });

  it('runs the image that the docker build in its README makes, with the .proto in the deployed files', () => {
    const readme = read('examples/grpc/README.md');
    const built = /docker build -f examples\/Dockerfile --build-arg EXAMPLE=grpc -t (\S+) \./.exec(readme);
    expect(built, 'the README says how to build the image').not.toBeNull();
    expect(deployment).toContain(`image: ${built![1]}\n`);
    // pnpm deploy copies the package's `files`: the service loads its .proto at start-up.
    const manifest = JSON.parse(read('examples/grpc/package.json')) as { files: string[] };
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'proto']));
  });
});
