// Worker processes killed with SIGKILL while scans flow through every stage: each accepted scan still
// ends with exactly one machine verdict (locks expire, jobs run again, handlers are idempotent).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/databases.js';
import { dualEnergyPair } from '../helpers/images.js';
import { pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { recordOutcome, tally } from '../helpers/reliability.js';

let stack: TestStack;
let emptyModels: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ database: 'postgres', workers: false });
  emptyModels = await mkdtemp(join(tmpdir(), 'tw-nomodels-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stack?.close();
  await rm(emptyModels, { recursive: true, force: true });
});

function startWorkerProcess(): ChildProcess {
  const env = {
    ...process.env,
    DATABASE_URL: stack.db.url!,
    REDIS_URL,
    QUEUE_PREFIX: stack.config.queuePrefix,
    DATA_DIR: stack.dir,
    MODELS_DIR: emptyModels,
    METRICS_PORT: '0',
    JOB_LOCK_MS: '1500',
    SWEEP_IDLE_MS: '1000',
    SWEEP_INTERVAL_MS: '300',
    DECLARATION_WAIT_MS: '0',
    WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'silent',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], { env, stdio: 'ignore' });
  children.push(child);
  return child;
}

async function verdictCounts(): Promise<Map<string, number>> {
  const r = await stack.db.db.query<{ scan_id: string; n: number }>(`SELECT scan_id, count(*)::int AS n FROM verdicts GROUP BY scan_id`);
  return new Map(r.rows.map((x) => [x.scan_id, x.n]));
}

it('SIGKILL of workers mid-stream loses and duplicates nothing', async () => {
  const ids = Array.from({ length: 16 }, (_, i) => `kill-${i}`);
  for (const [i, scanId] of ids.entries()) {
    const images = await dualEnergyPair(1536, 480, i);
    const res = await pushScan(stack.url, {
      key: stack.key,
      metadata: { scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' },
      images,
    });
    expect(res.status).toBe(202);
  }
  // Three generations of workers; the first two die by SIGKILL as soon as they have made progress (one
  // more verdict), so each dies with work in flight across the stages.
  for (let generation = 0; generation < 2; generation++) {
    const done = (await verdictCounts()).size;
    const w = startWorkerProcess();
    await expect.poll(async () => (await verdictCounts()).size, { timeout: 60_000, interval: 50 }).toBeGreaterThan(done);
    w.kill('SIGKILL');
    await new Promise((r) => w.once('exit', r));
  }
  const before = await verdictCounts();
  expect(before.size).toBeLessThan(ids.length); // the kills really interrupted the stream
  startWorkerProcess();
  const deadline = Date.now() + 60_000;
  let counts = await verdictCounts();
  while (counts.size < ids.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    counts = await verdictCounts();
  }
  recordOutcome({ fault: 'worker processes killed with SIGKILL mid-stream (twice)', ...tally(ids, counts) });
  expect([...counts.keys()].sort()).toEqual([...ids].sort());
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  await expect.poll(async () => (await stack.db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scans WHERE routed_at IS NOT NULL`)).rows[0]!.n, { timeout: 20_000 }).toBe(ids.length);
}, 120_000);
