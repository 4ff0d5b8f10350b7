// Risk control's webhook subscriptions cannot be pointed at the services beside Tidewatch (SSRF): the URL is
// refused when made, and a delivery to an address that is not public fails and dead-letters without a byte sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { subscriptionsRepo } from '../../storage/repos/subscriptions.js';
import { pollUntil } from '../helpers/push.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let risk: TestUser, sup: TestUser;
let server: Server;
let port: number;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  // no SUBSCRIPTION_ALLOWED_NETWORKS: public addresses only
  stack = await startStack({ database: 'pglite', env: { OUTBOX_MAX_ATTEMPTS: '2', OUTBOX_BACKOFF_MS: '20', OUTBOX_INTERVAL_MS: '40', DOUBLE_BLIND_RATE: '0' } });
  [risk, sup] = await Promise.all([makeUser(stack.db.db, 'rita', 'risk-control'), makeUser(stack.db.db, 'sol', 'supervisor')]);
});
afterAll(async () => {
  await stack?.close();
  server?.close();
});

it('refuses a subscription to loopback, private or link-local addresses, by IP or by name, and to a host that does not resolve', async () => {
  const refused: Array<[string, string]> = [
    [`http://127.0.0.1:${port}/sub`, 'SUBSCRIPTION_URL_FORBIDDEN'],
    [`http://localhost:${port}/sub`, 'SUBSCRIPTION_URL_FORBIDDEN'],
    ['http://169.254.169.254/latest/meta-data/', 'SUBSCRIPTION_URL_FORBIDDEN'],
    ['http://10.0.0.5:9200/_search', 'SUBSCRIPTION_URL_FORBIDDEN'],
    ['http://[::1]:6379/', 'SUBSCRIPTION_URL_FORBIDDEN'],
    ['https://no-such-host.invalid/hook', 'SUBSCRIPTION_URL_UNRESOLVED'],
  ];
  for (const [url, code] of refused) {
    const r = await call<{ code: string; details?: { field: string } }>(stack.url, 'POST', '/v1/subscriptions', risk.token, { url });
    expect([url, r.status, r.body.code, r.body.details?.field]).toEqual([url, 400, code, 'url']);
  }
  expect((await call<{ items: unknown[] }>(stack.url, 'GET', '/v1/subscriptions', risk.token)).body.items).toEqual([]);
});

it('a subscription whose host now resolves inward gets nothing: each delivery fails, then dead-letters', async () => {
  // as if the name had resolved to a public address when the subscription was made (DNS rebinding)
  await subscriptionsRepo(stack.db.db).add({ url: `http://localhost:${port}/sub`, createdBy: 'rita' });
  await pushAndRoute(stack.url, stack.key, stack.db.db, 'ssrf-1', await containerNo('SSR', 1), 3);
  const dead = await pollUntil(
    () => call<{ items: Array<{ destination: string; attempts: number; lastError: string; payload: { scanId: string } }> }>(stack.url, 'GET', '/v1/outbox/dead', sup.token),
    (r) => r.body.items.some((m) => m.payload.scanId === 'ssrf-1'),
    15_000,
    50,
  );
  const letter = dead.body.items.find((m) => m.payload.scanId === 'ssrf-1')!;
  expect(letter.attempts).toBe(2);
  expect(letter.lastError).toMatch(/not a public address/);
  expect(received).toEqual([]);
});
