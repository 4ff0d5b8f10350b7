// Real databases for tests: a fresh schema in the shared PostgreSQL `test` database, or in-memory PGlite.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../storage/db/migrate.js';
import { createPglite } from '../../storage/db/pglite.js';
import { createPostgres } from '../../storage/db/postgres.js';
import type { Sql } from '../../storage/db/sql.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDb {
  db: Sql;
  url: string | null;
  drop(): Promise<void>;
}

/** A migrated PostgreSQL schema of its own, so test files running in parallel never meet. */
export async function postgresTestDb(): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const db = createPostgres(url);
  await migrate(db);
  return {
    db,
    url,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export async function pgliteTestDb(): Promise<TestDb> {
  const db = await createPglite();
  await migrate(db);
  return { db, url: null, drop: () => db.close() };
}

export const DATABASES = { postgres: postgresTestDb, pglite: pgliteTestDb } as const;
