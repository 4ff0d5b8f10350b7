// The object store failing (writes refused, reads failing for a while) or slow, and Redis killed and
// restarted mid-stream: the gateway gets a clear 503 for what was not stored, and every accepted scan ends with
// exactly one verdict.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../storage/objects/object-store.js';
import { startRedisServer, type RedisServer } from '../../storage/redis-server.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { recordOutcome, tally } from '../helpers/reliability.js';

const meta = (scanId: string) => ({ scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' });

async function verdictCounts(stack: TestStack): Promise<Record<string, number>> {
  const r = await stack.db.db.query<{ scan_id: string; n: number }>(`SELECT scan_id, count(*)::int AS n FROM verdicts GROUP BY scan_id ORDER BY scan_id`);
  return Object.fromEntries(r.rows.map((x) => [x.scan_id, x.n]));
}

describe('object store failing', () => {
  // Failure injection around the real file store: the disk (or S3) refusing writes or reads for a while.
  const faults = { put: false, get: false };
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      database: 'pglite',
      env: { JOB_LOCK_MS: '2000' },
      wrapObjects: (store): ObjectStore => ({
        ...store,
        put: async (...args) => {
          if (faults.put) throw new Error('EIO: simulated disk failure');
          return store.put(...args);
        },
        get: async (key) => {
          if (faults.get) throw new Error('ECONNRESET: simulated store outage');
          return store.get(key);
        },
        stat: async (key) => {
          if (faults.put) throw new Error('EIO: simulated disk failure');
          return store.stat(key);
        },
      }),
    });
  });
  afterAll(async () => stack?.close());

  it('refuses pushes with 503 STORAGE_UNAVAILABLE and stores no scan row', async () => {
    faults.put = true;
    const res = await pushScan(stack.url, { key: stack.key, metadata: meta('os-refused'), images: await dualEnergyPair(96, 48, 1) });
    faults.put = false;
    expect([res.status, res.body.code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    const rows = await stack.db.db.query(`SELECT scan_id FROM scans WHERE scan_id = 'os-refused'`);
    expect(rows.rows).toEqual([]);
  });

  it('a read outage in the pipeline delays but does not lose the scan', async () => {
    faults.get = true;
    const res = await pushScan(stack.url, { key: stack.key, metadata: meta('os-read-outage'), images: await dualEnergyPair(96, 48, 2) });
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1200));
    faults.get = false;
    const done = await pollUntil(() => getJson(stack.url, '/v1/scans/os-read-outage', stack.key), (r) => r.body.status === 'assessed', 45_000, 200);
    expect(done.body.status).toBe('assessed');
    const counts = await verdictCounts(stack);
    recordOutcome({ fault: 'object store reads failing in the pipeline', ...tally(['os-read-outage'], counts) });
    expect(counts).toEqual({ 'os-read-outage': 1 });
  });
});

describe('Redis killed and restarted mid-stream', () => {
  let dir: string;
  let redis: RedisServer;
  let stack: TestStack;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-redis-restart-'));
    redis = await startRedisServer(dir);
    stack = await startStack({ database: 'pglite', redisUrl: redis.url, env: { JOB_LOCK_MS: '2000' } });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); // its redis-server's folder can still gain a file as the server stops (seen once in CI)
  });

  it('every accepted scan gets exactly one verdict', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `rr-${i}`);
    for (const [i, id] of ids.entries()) {
      expect((await pushScan(stack.url, { key: stack.key, metadata: meta(id), images: await dualEnergyPair(512, 160, i) })).status).toBe(202);
      if (i === 3) {
        await redis.stop('SIGKILL'); // a crash: jobs since the last AOF fsync may be gone
        await redis.restart();
      }
    }
    await expect
      .poll(async () => Object.keys(await verdictCounts(stack)).length, { timeout: 60_000, interval: 300 })
      .toBe(ids.length);
    const counts = await verdictCounts(stack);
    recordOutcome({ fault: 'Redis killed (SIGKILL) and restarted mid-stream', ...tally(ids, counts) });
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
  });
});

describe('object store slow', () => {
  // Every read and write takes 400 ms, as an overloaded MinIO or a congested link would.
  const slow = <T>(p: () => Promise<T>) => new Promise<void>((r) => setTimeout(r, 400)).then(p);
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      database: 'pglite',
      wrapObjects: (store): ObjectStore => ({
        ...store,
        put: (...args) => slow(() => store.put(...args)),
        get: (key) => slow(() => store.get(key)),
        stat: (key) => slow(() => store.stat(key)),
      }),
    });
  });
  afterAll(async () => stack?.close());

  it('accepts concurrent pushes and gives each exactly one verdict, only later', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `slow-${i}`);
    const answers = await Promise.all(ids.map(async (id, i) => pushScan(stack.url, { key: stack.key, metadata: meta(id), images: await dualEnergyPair(96, 48, 20 + i) })));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 202));
    await expect.poll(async () => Object.keys(await verdictCounts(stack)).length, { timeout: 60_000, interval: 300 }).toBe(ids.length);
    const counts = await verdictCounts(stack);
    recordOutcome({ fault: 'object store slow (400 ms per call)', ...tally(ids, counts) });
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
  });
});
