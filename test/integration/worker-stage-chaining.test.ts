// A worker that serves the next stage runs it in the same job (no queue hop); a stage it does not serve,
// or a continued stage that fails transiently, goes through its queue as before. Real Redis, stub handlers.
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { PipelineDeps } from '../../pipeline/deps.js';
import { JOBS, jobId, type Stage, type StageHandlers } from '../../pipeline/jobs.js';
import type { Queues } from '../../pipeline/queues.js';
import { registry } from '../../pipeline/metrics.js';
import { startWorkers, type RunningWorkers } from '../../pipeline/worker.js';
import type { Scan } from '../../storage/repos/scans.js';
import { REDIS_URL } from '../helpers/databases.js';

let running: RunningWorkers | null = null;
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await running?.close();
  running = null;
  for (const o of opened.splice(0)) await o.close();
});

function harness(opts: { stages?: Stage[]; failOnce?: Stage; concurrency?: number; delayMs?: number; carry?: Stage[] }) {
  const prefix = `twchain-${randomBytes(4).toString('hex')}`;
  const calls: string[] = [];
  const enqueued: string[] = [];
  // the status a carrying stage left to the next one, stored by the worker (noting whether anything was enqueued first)
  const saves: string[] = [];
  const failed = new Set<Stage>();
  const next: Record<Stage, Stage | undefined> = { preprocess: 'infer', infer: 'assess', assess: 'route', route: undefined };
  const active: Record<string, number> = {};
  const peak: Record<string, number> = {};
  const handler = (stage: Stage) => async ({ scanId }: { scanId: string }, carried?: Scan) => {
    calls.push(`${stage}:${scanId}${carried ? `<${carried.status}` : ''}`);
    active[stage] = (active[stage] ?? 0) + 1;
    active.all = (active.all ?? 0) + 1;
    peak[stage] = Math.max(peak[stage] ?? 0, active[stage]!);
    peak.all = Math.max(peak.all ?? 0, active.all);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
    active[stage]!--;
    active.all--;
    if (opts.failOnce === stage && !failed.has(stage)) {
      failed.add(stage);
      throw new Error('transient');
    }
    // a stage in `carry` hands the next the scan as it stored it (here: a stand-in whose status names the stage)
    const n = next[stage];
    const save = async () => void saves.push(`${stage}:${scanId}${enqueued.length ? ' after an enqueue' : ''}`);
    return n && opts.carry?.includes(stage) ? { next: n, scan: { scanId, status: stage } as unknown as Scan, save } : n;
  };
  const handlers = Object.fromEntries((['preprocess', 'infer', 'assess', 'route'] as const).map((s) => [s, handler(s)])) as StageHandlers;
  const queues: Queues = {
    enqueue: async (stage, scanId) => void enqueued.push(`${stage}:${scanId}`),
    depths: async () => ({ preprocess: 0, infer: 0, assess: 0, route: 0 }),
    ping: async () => {},
    close: async () => {},
  };
  const deps = { logger: pino({ level: 'silent' }), queues } as unknown as PipelineDeps;
  running = startWorkers(deps, { redisUrl: REDIS_URL, prefix, concurrency: opts.concurrency ?? 2, handlers, ...(opts.stages && { stages: opts.stages }) });
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const producer = new Queue(JOBS.preprocess.queue, { connection, prefix });
  opened.push({ close: async () => { await producer.close(); connection.disconnect(); } });
  const push = (scanId: string) => producer.add('preprocess', { scanId }, { jobId: jobId('preprocess', scanId), removeOnComplete: true });
  return { calls, enqueued, saves, push, peak };
}

async function stageCount(stage: Stage): Promise<number> {
  const m = (await registry.getSingleMetric('tidewatch_stage_seconds')!.get()).values;
  return m.filter((v) => (v as { metricName?: string }).metricName === 'tidewatch_stage_seconds_count' && v.labels.stage === stage && v.labels.outcome === 'ok').reduce((s, v) => s + v.value, 0);
}

it('runs every stage of a scan in one job when the worker serves them all, and counts each stage', async () => {
  const before = await stageCount('route');
  const h = harness({});
  await h.push('c1');
  await expect.poll(() => h.calls.length, { timeout: 10_000 }).toBe(4);
  expect(h.calls).toEqual(['preprocess:c1', 'infer:c1', 'assess:c1', 'route:c1']);
  expect(h.enqueued).toEqual([]);
  expect(await stageCount('route')).toBe(before + 1);
});

it('hands the scan a stage stored to the next stage of the same job, never across a queue hop', async () => {
  const h = harness({ carry: ['preprocess', 'assess'] });
  await h.push('c4');
  await expect.poll(() => h.calls.length, { timeout: 10_000 }).toBe(4);
  expect(h.calls).toEqual(['preprocess:c4', 'infer:c4<preprocess', 'assess:c4', 'route:c4<assess']);
  // the next stage ran in this job: what the carrying stages left unstored is its to store
  expect(h.saves).toEqual([]);
});

it('a stage handed to another worker through its queue gets the scan id only', async () => {
  const h = harness({ stages: ['preprocess'], carry: ['preprocess'] });
  await h.push('c5');
  await expect.poll(() => h.enqueued, { timeout: 10_000 }).toEqual(['infer:c5']); // the next job reads the scan
  expect(h.calls).toEqual(['preprocess:c5']);
  // so what preprocess left to infer is stored before infer's job exists
  expect(h.saves).toEqual(['preprocess:c5']);
});

it('a continued stage that fails transiently gets the status its predecessor left stored before its own queue does', async () => {
  const h = harness({ failOnce: 'infer', carry: ['preprocess'] });
  await h.push('c6');
  await expect.poll(() => h.enqueued, { timeout: 10_000 }).toEqual(['infer:c6']);
  expect(h.calls).toEqual(['preprocess:c6', 'infer:c6<preprocess']);
  expect(h.saves).toEqual(['preprocess:c6']);
});

it('enqueues the next stage when this worker does not serve it', async () => {
  const h = harness({ stages: ['preprocess', 'infer'] });
  await h.push('c2');
  await expect.poll(() => h.enqueued, { timeout: 10_000 }).toEqual(['assess:c2']);
  expect(h.calls).toEqual(['preprocess:c2', 'infer:c2']);
});

it('a continued stage that fails transiently goes to its own queue; the job does not fail', async () => {
  const h = harness({ failOnce: 'infer' });
  await h.push('c3');
  await expect.poll(() => h.enqueued, { timeout: 10_000 }).toEqual(['infer:c3']);
  expect(h.calls).toEqual(['preprocess:c3', 'infer:c3']);
});

it('keeps each stage within the concurrency while a queue takes a job per stage it can run', async () => {
  const h = harness({ concurrency: 1, delayMs: 30 });
  for (let i = 0; i < 6; i++) await h.push(`p${i}`);
  await expect.poll(() => h.calls.length, { timeout: 10_000 }).toBe(24);
  expect(h.peak.preprocess).toBe(1);
  expect(h.peak.infer).toBe(1);
  expect(h.peak.all).toBeGreaterThan(1); // scans in different stages at once, as with one job per stage
});
