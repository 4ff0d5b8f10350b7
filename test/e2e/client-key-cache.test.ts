// API client keys are trusted for CLIENT_KEY_CACHE_MS after the database confirmed them (a gateway pushing
// several scans a second then costs no key lookup on each), and no longer: a revoked or rotated key is refused
// once that time has passed, and at once with the cache off. An unknown key is never remembered.
import { afterEach, describe, expect, it } from 'vitest';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** GET /v1/scans/<unknown id> as this key: 404 once authenticated, 401 when the key is refused. */
async function statusAs(key: string): Promise<number> {
  const res = await fetch(new URL('/v1/scans/no-such-scan', stack!.url), { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('client key cache', () => {
  it('a revoked key keeps working only until its cached check expires', async () => {
    stack = await startStack({ database: 'postgres', workers: false, env: { CLIENT_KEY_CACHE_MS: '1500' } });
    expect(await statusAs(stack.key)).toBe(404);
    expect(await gatewaysRepo(stack.db.db).revoke('test-gateway')).toBe(true);
    const revokedAt = Date.now();
    const soon = await statusAs(stack.key);
    // within the cache time the API has not looked again (the test's own request may land just past it)
    if (Date.now() - revokedAt < 1000) expect(soon).toBe(404);
    await sleep(1600);
    expect(await statusAs(stack.key)).toBe(401);
    // and it stays refused: a refusal is not cached as a pass, nor the other way round
    expect(await statusAs(stack.key)).toBe(401);
  });

  it('a rotated key is refused after the cache time and the new one is accepted at once', async () => {
    stack = await startStack({ database: 'postgres', workers: false, env: { CLIENT_KEY_CACHE_MS: '300' } });
    const old = stack.key;
    expect(await statusAs(old)).toBe(404);
    const { key: fresh } = await gatewaysRepo(stack.db.db).rotate('test-gateway');
    expect(await statusAs(fresh)).toBe(404);
    await sleep(400);
    expect(await statusAs(old)).toBe(401);
    expect(await statusAs(fresh)).toBe(404);
  });

  it('with CLIENT_KEY_CACHE_MS=0 a revoked key is refused on the next request; an unknown key is refused every time', async () => {
    stack = await startStack({ database: 'pglite', workers: false, env: { CLIENT_KEY_CACHE_MS: '0' } });
    expect(await statusAs(stack.key)).toBe(404);
    await gatewaysRepo(stack.db.db).revoke('test-gateway');
    expect(await statusAs(stack.key)).toBe(401);
    const unknown = `twg_${'x'.repeat(43)}`;
    expect(await statusAs(unknown)).toBe(401);
    // a key added after an unknown key's refusal works at once (refusals are never cached)
    const { key } = await gatewaysRepo(stack.db.db).add('late-gateway');
    expect(await statusAs(key)).toBe(404);
  });

  it('by default a checked key is trusted for 5 s', async () => {
    stack = await startStack({ database: 'pglite', workers: false });
    expect(stack.config.clientKeyCacheMs).toBe(5000);
    expect(await statusAs(stack.key)).toBe(404);
    await gatewaysRepo(stack.db.db).revoke('test-gateway');
    expect(await statusAs(stack.key)).toBe(404);
  });
});
