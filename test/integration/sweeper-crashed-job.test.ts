// A scan whose job kills its workers (an image that crashes the decoder, say): BullMQ fails the job past the
// stall limit without running it, and the sweeper must then send the scan to review, not run it again and again.
// Real Redis (a private queue prefix), real BullMQ workers, an embedded database.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { JOBS, jobId } from '../../pipeline/jobs.js';
import { createQueues, type Queues } from '../../pipeline/queues.js';
import { sweepOnce } from '../../pipeline/sweeper.js';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { pgliteTestDb, REDIS_URL, type TestDb } from '../helpers/databases.js';
import { pollUntil } from '../helpers/push.js';
import { noModels } from '../helpers/stack.js';

const prefix = `twcrash-${process.pid}`;
let t: TestDb;
let queues: Queues;
const workers: Worker[] = [];
const connections: Redis[] = [];
const connection = () => {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(c);
  return c;
};

beforeAll(async () => {
  t = await pgliteTestDb();
  queues = createQueues(REDIS_URL, prefix);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close(true)));
  await queues?.close();
  const c = connection();
  const keys = await c.keys(`${prefix}:*`);
  if (keys.length) await c.del(...keys);
  for (const x of connections) x.disconnect();
  await t?.drop();
});

it('a job failed past the stall limit is not revived: the scan gets a review verdict, PROCESSING_CRASHED', async () => {
  const gatewayId = (await gatewaysRepo(t.db).add('gw-crash')).gateway.id;
  await t.db.query(
    `INSERT INTO scans (scan_id, gateway_id, scanner_id, modality, container_no, captured_at, content_hash, status, updated_at)
     VALUES ('crash-1', $1, 'H986-01', 'container-xray', 'CSQU3054383', now(), 'x', 'preprocessed', now() - interval '1 hour')`,
    [gatewayId],
  );
  const queue = JOBS.infer.queue;
  await queues.enqueue('infer', 'crash-1');
  // a worker takes the job and dies with it (its lock is never renewed again)
  let ran = 0;
  const dying = new Worker(queue, () => {
    ran++;
    return new Promise(() => {});
  }, { connection: connection(), prefix, lockDuration: 400, stalledInterval: 200 });
  workers.push(dying);
  await pollUntil(async () => ran, (n) => n === 1, 10_000, 20);
  await dying.close(true);
  // the next worker finds it stalled past its limit (0 here; 3 in the pipeline) and fails it without running it
  const next = new Worker(queue, async () => void ran++, { connection: connection(), prefix, lockDuration: 400, stalledInterval: 200, maxStalledCount: 0 });
  workers.push(next);
  const inspect = new Queue(queue, { connection: connection(), prefix });
  const job = await pollUntil(async () => (await inspect.getJob(jobId('infer', 'crash-1'))) ?? null, (j) => j?.failedReason?.includes('stalled') === true, 15_000, 100);
  await inspect.close();
  expect(job?.failedReason).toMatch(/stalled more than allowable limit/);
  expect(ran).toBe(1);

  const deps: PipelineDeps = {
    db: t.db, objects: createFsObjectStore('/tmp/tw-crash-objects'), queues, runtime: noModels, logger: pino({ level: 'silent' }),
    maxImagePixels: 50_000_000, policy: defaultPolicy(), declarationWaitMs: 0, now: () => new Date(),
  };
  await sweepOnce(deps, 1000);
  const v = await t.db.query<{ decision: string; body: { reasons: Array<{ code: string }> } }>(`SELECT decision, body FROM verdicts WHERE scan_id = 'crash-1' AND source = 'machine'`);
  expect(v.rows.map((r) => [r.decision, r.body.reasons.map((x) => x.code)])).toEqual([['review', ['PROCESSING_CRASHED']]]);
  expect((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM review_items WHERE scan_id = 'crash-1'`)).rows[0]!.n).toBe(1);
  // and it is not run again: the scan is routed, so later sweeps leave it alone
  await new Promise((r) => setTimeout(r, 500));
  expect(ran).toBe(1);
  expect(await sweepOnce(deps, 0)).toBe(0);
});
