// Embedded PGlite adapter of the Sql port (the demo default): real PostgreSQL in-process, in ./data/db.
import { PGlite } from '@electric-sql/pglite';
import type { Queryable, Sql } from './sql.js';

export async function createPglite(dataDir?: string): Promise<Sql> {
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return {
    kind: 'pglite',
    async query<T>(text: string, params?: unknown[]) {
      const r = await db.query<T>(text, params);
      return { rows: r.rows };
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction(async (t) =>
        fn({
          async query<R>(text: string, params?: unknown[]) {
            const r = await t.query<R>(text, params);
            return { rows: r.rows };
          },
        }),
      );
    },
    async exec(script: string) {
      await db.exec(script);
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await db.close();
    },
  };
}
