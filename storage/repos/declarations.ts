// Declarations, stored whole, with an index of their subjects (containers, waybills) for matching scans.
import type { CreditLevel, Declaration } from '../../domain/declaration/declaration.js';
import type { Queryable, Sql } from '../db/sql.js';
import { enterprisesRepo } from './enterprises.js';

export const subjectKey = (s: { containerNo?: string | null; waybill?: string | null }): string =>
  s.containerNo ? `C:${s.containerNo}` : `W:${s.waybill}`;

export interface StoredDeclaration {
  declaration: Declaration;
  version: number;
  submittedBy: string;
  updatedAt: string;
}

interface DeclarationRow {
  body: Declaration;
  version: number;
  submitted_by: string;
  updated_at: Date | string;
}

const toStored = (r: DeclarationRow): StoredDeclaration => ({
  declaration: r.body,
  version: r.version,
  submittedBy: r.submitted_by,
  updatedAt: new Date(r.updated_at).toISOString(),
});

export function declarationsRepo(db: Sql) {
  return {
    /** Creates or replaces a declaration (an amendment bumps its version); returns the scans it now covers. */
    async upsert(d: Declaration, submittedBy: string): Promise<{ stored: StoredDeclaration; created: boolean; scanIds: string[] }> {
      return db.transaction(async (tx) => {
        const rows = (
          await tx.query<DeclarationRow & { inserted: boolean }>(
            `INSERT INTO declarations (declaration_id, body, enterprise_id, credit_level, perishable, vessel_closing_at, submitted_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (declaration_id) DO UPDATE SET body = EXCLUDED.body, enterprise_id = EXCLUDED.enterprise_id,
               credit_level = EXCLUDED.credit_level, perishable = EXCLUDED.perishable, vessel_closing_at = EXCLUDED.vessel_closing_at,
               submitted_by = EXCLUDED.submitted_by, version = declarations.version + 1, updated_at = now()
             RETURNING body, version, submitted_by, updated_at, (xmax = 0) AS inserted`,
            [d.declarationId, JSON.stringify(d), d.enterprise.id, d.enterprise.creditLevel, d.perishable, d.vesselClosingAt ?? null, submittedBy],
          )
        ).rows;
        const row = rows[0]!;
        await enterprisesRepo(tx).fromDeclaration(tx, d.enterprise, submittedBy);
        await tx.query('DELETE FROM declaration_subjects WHERE declaration_id = $1', [d.declarationId]);
        const subjects = [...d.containers.map((c) => subjectKey({ containerNo: c.containerNo })), ...d.waybills.map((w) => subjectKey({ waybill: w }))];
        for (const s of subjects) await tx.query('INSERT INTO declaration_subjects (declaration_id, subject) VALUES ($1, $2)', [d.declarationId, s]);
        const scans = (
          await tx.query<{ scan_id: string }>(
            `SELECT scan_id FROM scans WHERE (CASE WHEN container_no IS NOT NULL THEN 'C:' || container_no ELSE 'W:' || waybill END) = ANY($1)`,
            [subjects],
          )
        ).rows.map((r) => r.scan_id);
        return { stored: toStored(row), created: row.inserted, scanIds: scans };
      });
    },
    async get(declarationId: string): Promise<StoredDeclaration | null> {
      const r = (await db.query<DeclarationRow>('SELECT body, version, submitted_by, updated_at FROM declarations WHERE declaration_id = $1', [declarationId])).rows[0];
      return r ? toStored(r) : null;
    },
    /**
     * The newest declaration naming this container or waybill, as the assessment sees it: when risk
     * control has set the enterprise's credit level (enterprises), that level replaces the declared one.
     */
    async forSubject(subject: { containerNo?: string | null; waybill?: string | null }, q: Queryable = db): Promise<StoredDeclaration | null> {
      const r = (
        await q.query<DeclarationRow & { recorded_level: CreditLevel | null }>(
          `SELECT d.body, d.version, d.submitted_by, d.updated_at, e.credit_level AS recorded_level
           FROM declaration_subjects s JOIN declarations d USING (declaration_id)
           LEFT JOIN enterprises e ON e.enterprise_id = d.enterprise_id AND e.credit_source = 'risk-control'
           WHERE s.subject = $1 ORDER BY d.updated_at DESC LIMIT 1`,
          [subjectKey(subject)],
        )
      ).rows[0];
      if (!r) return null;
      const stored = toStored(r);
      if (r.recorded_level && r.recorded_level !== stored.declaration.enterprise.creditLevel) {
        stored.declaration = { ...stored.declaration, enterprise: { ...stored.declaration.enterprise, creditLevel: r.recorded_level } };
      }
      return stored;
    },
  };
}
