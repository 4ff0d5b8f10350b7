// The container register: tare weights by container number, for the manifest check's weight comparison when
// a declaration gives none (storage/migrations/009_container_register.sql).
import { lockKey, type Queryable, type Sql } from '../db/sql.js';
import { auditRepo } from './audit.js';
import { iso } from '../db/rows.js';

export interface ContainerRecord {
  containerNo: string;
  tareKg: number;
  source: string | null;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  container_no: string;
  tare_kg: number | string;
  source: string | null;
  updated_by: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const toRecord = (r: Row): ContainerRecord => ({
  containerNo: r.container_no,
  tareKg: Number(r.tare_kg),
  source: r.source,
  updatedBy: r.updated_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export function containersRepo(db: Queryable) {
  return {
    async get(containerNo: string): Promise<ContainerRecord | null> {
      const r = (await db.query<Row>('SELECT * FROM container_register WHERE container_no = $1', [containerNo])).rows[0];
      return r ? toRecord(r) : null;
    },
    /** Creates or replaces a box's tare (run on a transaction: writers of one box take turns); `before` is what it replaced. */
    async set(input: { containerNo: string; tareKg: number; source?: string; actor: string }): Promise<{ before: ContainerRecord | null; after: ContainerRecord }> {
      await lockKey(db, `container:${input.containerNo}`);
      const before = (await db.query<Row>('SELECT * FROM container_register WHERE container_no = $1 FOR UPDATE', [input.containerNo])).rows[0];
      const after = (
        await db.query<Row>(
          `INSERT INTO container_register (container_no, tare_kg, source, updated_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (container_no) DO UPDATE SET tare_kg = EXCLUDED.tare_kg, source = EXCLUDED.source,
             updated_by = EXCLUDED.updated_by, updated_at = now()
           RETURNING *`,
          [input.containerNo, input.tareKg, input.source ?? null, input.actor],
        )
      ).rows[0]!;
      return { before: before ? toRecord(before) : null, after: toRecord(after) };
    },
  };
}

/**
 * Sets a box's tare and appends `container.tare-set` to the audit chain in one transaction (the API's PUT and
 * the CLI's import both record through here).
 */
export async function recordTare(db: Sql, input: { containerNo: string; tareKg: number; source?: string; actor: string }): Promise<{ before: ContainerRecord | null; after: ContainerRecord }> {
  return db.transaction(async (tx) => {
    const changed = await containersRepo(tx).set(input);
    await auditRepo(db).append(tx, {
      actor: input.actor,
      action: 'container.tare-set',
      subject: `container:${input.containerNo}`,
      detail: { from: changed.before?.tareKg ?? null, to: input.tareKg, source: input.source ?? null },
    });
    return changed;
  });
}
