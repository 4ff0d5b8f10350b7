// Opens the configured adapters: PostgreSQL or embedded PGlite; S3/MinIO or the file store. Migrates.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { migrate } from './db/migrate.js';
import { createPglite } from './db/pglite.js';
import { createPostgres } from './db/postgres.js';
import type { Sql } from './db/sql.js';
import { createFsObjectStore } from './objects/fs-store.js';
import type { ObjectStore } from './objects/object-store.js';
import { createS3ObjectStore } from './objects/s3-store.js';

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Sql> {
  let db: Sql;
  if (config.databaseUrl) db = createPostgres(config.databaseUrl);
  else {
    const dir = resolve(config.dataDir, 'db');
    await mkdir(dir, { recursive: true });
    db = await createPglite(dir);
  }
  await migrate(db);
  return db;
}

export async function openObjectStore(config: Pick<Config, 's3' | 'dataDir'>): Promise<ObjectStore> {
  if (config.s3) {
    const store = createS3ObjectStore(config.s3);
    await store.ensureBucket();
    return store;
  }
  return createFsObjectStore(resolve(join(config.dataDir, 'objects')));
}
