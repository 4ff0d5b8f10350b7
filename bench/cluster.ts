// A production-shaped cluster for the pipeline benchmarks: one API process and N worker processes
// (scripts/api.ts, scripts/worker.ts) on PostgreSQL (a fresh schema), Redis (a fresh queue prefix) and a
// temp file store; plus a gateway key. Pushes go over real HTTP on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../storage/redis-server.js';
import { gatewaysRepo } from '../storage/repos/gateways.js';
import { postgresTestDb, REDIS_URL, type TestDb } from '../test/helpers/databases.js';
import { rssOfPid } from './common.js';

export interface Cluster {
  url: string;
  key: string;
  db: TestDb;
  api: ChildProcess;
  workers: ChildProcess[];
  rss(): { apiMiB: number; workersMiB: number[] };
  close(): Promise<void>;
}

export async function startCluster(opts: { workers: number; env?: Record<string, string>; nodeArgs?: string[] }): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tw-bench-'));
  const db = await postgresTestDb();
  const key = (await gatewaysRepo(db.db).add('bench-gateway')).key;
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: db.url!,
    REDIS_URL,
    QUEUE_PREFIX: `twbench-${randomBytes(4).toString('hex')}`,
    DATA_DIR: dir,
    PORT: String(port),
    METRICS_PORT: '0',
    DECLARATION_WAIT_MS: '0',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const start = (script: string) => spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const api = start('scripts/api.ts');
  const workers = Array.from({ length: opts.workers }, () => start('scripts/worker.ts'));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('benchmark API did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 2000)); // workers load their models
  return {
    url,
    key,
    db,
    api,
    workers,
    rss: () => ({ apiMiB: rssOfPid(api.pid!) / 2 ** 20, workersMiB: workers.map((w) => rssOfPid(w.pid!) / 2 ** 20) }),
    async close() {
      for (const p of [api, ...workers]) p.kill('SIGTERM');
      await Promise.all([api, ...workers].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
