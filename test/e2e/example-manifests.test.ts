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

for (const example of ['express', 'fastify', 'grpc'] as const) {
  describe(`the ${example} example's preStop patches`, () => {
    const deployment = read(`examples/${example}/k8s/deployment.yaml`);
    const kustomization = read(`examples/${example}/k8s/kustomization.yaml`);
    const name = /^metadata:\n\s+name: (\S+)/m.exec(deployment)![1]!;
    const container = /containers:\n\s+- name: (\S+)/.exec(deployment)![1]!;
    const graceSeconds = number(deployment, /terminationGracePeriodSeconds: (\d+)/);
    const shutdownTimeoutMs = Number(envValue(deployment, 'SHUTDOWN_TIMEOUT_MS'));

    for (const style of ['sleep', 'http'] as const) {
      it(`patches the example's own Deployment and container (prestop-${style}.yaml), and the kustomization names the patch`, () => {
        const patch = read(`examples/${example}/k8s/prestop-${style}.yaml`);
        expect(patch).toContain('kind: Deployment');
        expect(/^metadata:\n\s+name: (\S+)/m.exec(patch)?.[1]).toBe(name);
        expect(/containers:\n\s+- name: (\S+)/.exec(patch)?.[1]).toBe(container);
        expect(kustomization).toContain(`path: prestop-${style}.yaml`);
        // A patch, not a resource: it must not be applied on its own.
        expect(kustomization.split('\n').filter((line) => !line.startsWith('#')).join('\n')).not.toContain(`prestop-${style}.yaml`);
      });
    }

    it('sleeps as long as PRESTOP_SLEEP_SECONDS tells podkit, and the sleep plus the budget end before SIGKILL', () => {
      const patch = read(`examples/${example}/k8s/prestop-sleep.yaml`);
      const sleepSeconds = number(patch, /preStop:\n\s+sleep: \{ seconds: (\d+) \}/);
      expect(sleepSeconds).toBeGreaterThan(0);
      expect(Number(envValue(patch, 'PRESTOP_SLEEP_SECONDS'))).toBe(sleepSeconds);
      // What podkit's start-up warning checks: preStopSleepSeconds + shutdownTimeoutMs + 1 s.
      expect(sleepSeconds * 1000 + shutdownTimeoutMs + 1000).toBeLessThanOrEqual(graceSeconds * 1000);
    });

    it('calls GET /prestopz on the probe port with the bearer token PRESTOP_TOKEN gives podkit', () => {
      const patch = read(`examples/${example}/k8s/prestop-http.yaml`);
      expect(patch).toMatch(/httpGet:\n\s+path: \/prestopz\n\s+port: probes\n/);
      const header = /httpHeaders: \[\{ name: Authorization, value: "Bearer ([^"]+)" \}\]/.exec(patch);
      expect(header, 'an Authorization header').not.toBeNull();
      const token = envValue(patch, 'PRESTOP_TOKEN');
      expect(header![1]).toBe(token);
      // What createLifecycle accepts as probes.preStopToken.
      expect(token).toMatch(/^[A-Za-z0-9\-._~+/]{16,}$/);
    });

    it("passes PRESTOP_SLEEP_SECONDS and PRESTOP_TOKEN from the environment to createLifecycle", () => {
      const config = read(`examples/${example === 'grpc' ? 'grpc' : 'orders'}/src/config.ts`);
      expect(config).toContain("preStopSleepSeconds: integer(env, 'PRESTOP_SLEEP_SECONDS')");
      expect(config).toContain('preStopToken: env.PRESTOP_TOKEN || undefined');
      const wiring = read(example === 'grpc' ? 'examples/grpc/src/main.ts' : 'examples/orders/src/service.ts');
      expect(wiring).toContain('preStopToken: config.preStopToken');
      expect(wiring).toContain('preStopSleepSeconds: config.preStopSleepSeconds');
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
