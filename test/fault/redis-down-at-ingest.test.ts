// Redis unreachable while a gateway pushes: the scan is still accepted (it is durable in the database and
// the object store) and reaches its verdict once Redis is back, through the sweeper.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../storage/redis-server.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { recordOutcome, tally } from '../helpers/reliability.js';

let redis: RedisServer;
let stack: TestStack;
let dir: string;
const logLines: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-redis-'));
  redis = await startRedisServer(dir);
  stack = await startStack({ database: 'postgres', redisUrl: redis.url, env: { LOG_LEVEL: 'info' }, logLines });
});
afterAll(async () => {
  await stack?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); // its redis-server's folder can still gain a file as the server stops (seen once in CI)
});

it('accepts scans while Redis is down and gives each exactly one verdict after it returns', { timeout: 150_000 }, async () => {
  await redis.stop('SIGKILL');
  const ids = ['rd-1', 'rd-2', 'rd-3'];
  for (const [i, scanId] of ids.entries()) {
    const { high, low } = await dualEnergyPair(128, 64, i);
    const res = await pushScan(stack.url, {
      key: stack.key,
      metadata: { scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' },
      images: { high, low },
    });
    expect(res.status, scanId).toBe(202);
    expect(res.body.status).toBe('received');
  }
  await redis.restart();
  for (const scanId of ids) {
    const done = await pollUntil(() => getJson(stack.url, `/v1/scans/${scanId}`, stack.key), (r) => r.body.status === 'assessed' && r.body.verdict !== null, 60_000, 200);
    // On failure, show what the sweeper and workers said (this has only ever failed on a loaded CI machine).
    expect(done.body.status, `${scanId}\n${logLines.slice(-25).join('')}`).toBe('assessed');
  }
  const n = await stack.db.db.query<{ scan_id: string; n: number }>(
    `SELECT scan_id, count(*)::int AS n FROM verdicts WHERE scan_id = ANY($1) GROUP BY scan_id ORDER BY scan_id`,
    [ids],
  );
  recordOutcome({ fault: 'Redis unreachable at ingest', ...tally(ids, Object.fromEntries(n.rows.map((r) => [r.scan_id, r.n]))) });
  expect(n.rows).toEqual(ids.map((scan_id) => ({ scan_id, n: 1 })));
});
