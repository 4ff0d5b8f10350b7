// The whole system in one test process: API on a free port, workers and sweeper, real Redis (a unique
// queue prefix on the shared server, or a private redis-server), a real database and a temp file store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../config.js';
import type { ModelRuntime } from '../../models/runtime/types.js';
import { createLogger, startApi, startPipeline } from '../../scripts/wiring.js';
import { migrate } from '../../storage/db/migrate.js';
import { createPostgres } from '../../storage/db/postgres.js';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import type { ObjectStore } from '../../storage/objects/object-store.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { DATABASES, REDIS_URL, type TestDb } from './databases.js';

async function ownDatabase(url: string): Promise<TestDb> {
  const db = createPostgres(url);
  await migrate(db);
  return { db, url, drop: () => db.close() };
}

export interface TestStack {
  url: string;
  /** DATA_DIR of this stack: the file object store lives in <dir>/objects. */
  dir: string;
  key: string;
  db: TestDb;
  objects: ObjectStore;
  config: Config;
  /** Stops the workers (e.g. to see what ingest alone stored); startWorkers() brings them back. */
  stopWorkers(): Promise<void>;
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** A runtime with no registered models: every modality is MODEL_UNAVAILABLE. */
export const noModels: ModelRuntime = { modelsFor: () => [], infer: async () => [], close: async () => {} };

export async function startStack(opts: {
  database?: keyof typeof DATABASES;
  runtime?: ModelRuntime;
  /** Shadow mode's candidate models (the registry with candidates laid over it). */
  shadowRuntime?: ModelRuntime;
  redisUrl?: string;
  /** A database of the test's own (e.g. a private cluster it will stop); migrated here. */
  databaseUrl?: string;
  /** Wraps the file store (fault tests inject failures around the real adapter). */
  wrapObjects?: (store: ObjectStore) => ObjectStore;
  env?: Record<string, string>;
  workers?: boolean;
  /** Collects every log line (JSON) here instead of discarding them; the level comes from env LOG_LEVEL. */
  logLines?: string[];
} = {}): Promise<TestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-test-'));
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dir,
    QUEUE_PREFIX: `twtest-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SWEEP_IDLE_MS: '1000',
    SWEEP_INTERVAL_MS: '300',
    DECLARATION_WAIT_MS: '0',
    ...opts.env,
  });
  const sink = opts.logLines;
  // The production logger (with its redaction rules), writing to the test's sink or nowhere.
  const logger = createLogger(config, 'test', sink ? { write: (line: string) => void sink.push(line) } : undefined);
  const db = opts.databaseUrl ? await ownDatabase(opts.databaseUrl) : await DATABASES[opts.database ?? 'pglite']();
  const fsStore = createFsObjectStore(join(dir, 'objects'));
  const objects = opts.wrapObjects ? opts.wrapObjects(fsStore) : fsStore;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const { key } = await gatewaysRepo(db.db).add('test-gateway');
  const shared = { config, logger, db: db.db, objects, redisUrl };
  const api = await startApi(shared);
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | null = null;
  const startWorkers = async () => {
    pipeline ??= await startPipeline(shared, { runtime: opts.runtime ?? noModels, ...(opts.shadowRuntime && { shadowRuntime: opts.shadowRuntime }) });
  };
  if (opts.workers !== false) await startWorkers();
  return {
    url: api.address,
    dir,
    key,
    db,
    objects,
    config,
    startWorkers,
    async stopWorkers() {
      await pipeline?.close();
      pipeline = null;
    },
    async close() {
      await pipeline?.close();
      await api.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
