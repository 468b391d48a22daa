/**
 * The request mix the example services are restarted under, as a module: the load generator runs
 * wherever the model puts it (inside the kube-proxy model's namespace, in another process), and
 * builds the mix there. Seeds ten orders through the Service first, so reads hit real rows.
 */
import { request } from 'node:http';
import type { LoadTarget, RequestSpec } from './harness/index.js';

function post(target: LoadTarget, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 201 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`POST ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Cached reads, list queries, writes, and slow requests that are in flight when SIGTERM lands. */
export async function ordersLoad(target: LoadTarget): Promise<RequestSpec[]> {
  const seeded: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    const created = await post(target, '/orders', JSON.stringify({ item: `seed-${i}`, quantity: 1 }));
    seeded.push((JSON.parse(created) as { id: number }).id);
  }
  const pickSeeded = () => seeded[Math.floor(Math.random() * seeded.length)]!;
  return [
    { name: 'get-order', path: () => `/orders/${pickSeeded()}`, weight: 5 },
    { name: 'list-orders', path: '/orders?limit=10', weight: 2 },
    { name: 'create-order', method: 'POST', path: '/orders', body: () => JSON.stringify({ item: 'e2e-widget', quantity: 1 + Math.floor(Math.random() * 5) }), weight: 1 },
    { name: 'slow-work', path: '/work?ms=300', weight: 2 },
  ];
}

/** The names in the mix, for assertions that every kind of request got through. */
export const ORDERS_REQUESTS = ['get-order', 'list-orders', 'create-order', 'slow-work'] as const;
