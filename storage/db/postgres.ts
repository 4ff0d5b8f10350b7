// PostgreSQL adapter of the Sql port (production), on a pg Pool.
import pg from 'pg';
import { DatabaseUnavailableError, isConnectionError, type Queryable, type Sql } from './sql.js';

function wrap(err: unknown): unknown {
  return isConnectionError(err) ? new DatabaseUnavailableError(err) : err;
}

export function createPostgres(connectionString: string, opts: { max?: number } = {}): Sql {
  const pool = new pg.Pool({ connectionString, max: opts.max ?? 10, connectionTimeoutMillis: 3000 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async query<T>(text: string, params?: unknown[]) {
      try {
        const r = await pool.query(text, params);
        return { rows: r.rows as T[] };
      } catch (err) {
        throw wrap(err);
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw wrap(err);
      }
      const tx: Queryable = {
        async query<R>(text: string, params?: unknown[]) {
          const r = await client.query(text, params);
          return { rows: r.rows as R[] };
        },
      };
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw wrap(err);
      } finally {
        client.release();
      }
    },
    async exec(script: string) {
      try {
        await pool.query(script);
      } catch (err) {
        throw wrap(err);
      }
    },
    async ping() {
      await this.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
