// No secret reaches a log line: gateway keys, passwords (right or wrong), session tokens, even at trace
// level, even in failed requests; nor does a signed image URL's signature.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { usersRepo } from '../../storage/repos/users.js';
import { dualEnergyPair } from '../helpers/images.js';
import { pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const lines: string[] = [];
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite', env: { LOG_LEVEL: 'trace' }, logLines: lines });
});
afterAll(async () => stack?.close());

it('scans the logs of a busy session for every secret used in it', async () => {
  const password = 'Tidewatch-S3cret-Passw0rd';
  const wrongPassword = 'Not-The-Passw0rd-At-All';
  await usersRepo(stack.db.db).add({ username: 'reviewer.li', role: 'reviewer', tier: 'A', password });
  const login = await fetch(`${stack.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'reviewer.li', password }) });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  const failed = await fetch(`${stack.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'reviewer.li', password: wrongPassword }) });
  expect(failed.status).toBe(401);
  expect((await fetch(`${stack.url}/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  const images = await dualEnergyPair(64, 32, 1);
  const meta = { scanId: 'logs-1', scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' };
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta, images })).status).toBe(202);
  const wrongKey = 'twg_ThisIsAWrongKeyThatMustNotBeLogged0123456789';
  expect((await pushScan(stack.url, { key: wrongKey, metadata: meta, images })).status).toBe(401);
  // a signed image URL's signature opens the image to whoever reads it: the request line keeps the path only
  const sig = 'SignatureThatMustNotBeLogged_0123456789abcdef';
  expect((await fetch(`${stack.url}/v1/images/logs-1/high?exp=4102444800&sig=${sig}`)).status).toBe(403);
  await new Promise((r) => setTimeout(r, 500));

  const log = lines.join('');
  expect(lines.length).toBeGreaterThan(10); // the session really was logged, at trace level
  expect(log).toContain('/v1/scans');
  expect(log).toContain('/v1/images/logs-1/high?exp=4102444800&sig=[redacted]');
  for (const secret of [stack.key, token, password, wrongPassword, wrongKey, sig]) {
    expect(log.includes(secret), `a secret (${secret.slice(0, 6)}…) appears in the logs`).toBe(false);
  }
});
