// The database port: one small interface over PostgreSQL (pg) and embedded PGlite, so repositories and
// migrations are written once and run on both.

export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

export interface Sql extends Queryable {
  /** Runs fn inside one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Executes a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'postgres' | 'pglite';
}

/**
 * Serialises writers of one key until the transaction ends (a transaction-scoped advisory lock). `SELECT … FOR
 * UPDATE` locks only a row that exists: two first writes of the same key would both read "none" and both report
 * a creation. Taken first, this makes the second wait and then read the first's row.
 */
export async function lockKey(tx: Queryable, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}

/** Thrown by adapters when the database cannot be reached; the API answers 503 with Retry-After. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003']);

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  return /Connection terminated|connect ECONNREFUSED|terminating connection|timeout exceeded when trying to connect/i.test(err.message);
}
