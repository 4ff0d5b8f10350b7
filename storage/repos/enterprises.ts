// Enterprise (shipper) records: the credit level customs holds for each enterprise and what recently
// happened to its shipments. Declarations create and refresh a record; once risk control has set the
// level, later declarations no longer change it and the assessment uses the record's level instead of the
// declared one (declarationsRepo.forSubject).
import type { CreditLevel } from '../../domain/declaration/declaration.js';
import type { Enterprise as DeclaredEnterprise } from '../../domain/declaration/declaration.js';
import { INSPECTION_RESULTS, type InspectionResult } from './inspections.js';
import { lockKey, type Queryable } from '../db/sql.js';
import { iso } from '../db/rows.js';

export type CreditSource = 'declaration' | 'risk-control';

export interface EnterpriseRecord {
  id: string;
  name: string | null;
  creditLevel: CreditLevel;
  creditSource: CreditSource;
  reason: string | null;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

const VERDICT_SOURCES = ['machine', 'reviewer', 'supervisor', 'inspection'] as const;
const VERDICT_DECISIONS = ['clear', 'review', 'hold'] as const;
type DecisionCounts = Record<(typeof VERDICT_DECISIONS)[number], number>;

export interface EnterpriseSummary {
  /** The start of the period counted (ISO 8601). */
  since: string;
  days: number;
  /** Declarations first filed in the period. */
  declarations: number;
  /** Scans with at least one verdict event in the period. */
  scans: number;
  /** Verdict events in the period by source and decision. */
  verdicts: Record<(typeof VERDICT_SOURCES)[number], DecisionCounts>;
  inspections: Record<InspectionResult, number> & { total: number };
}

interface EnterpriseRow {
  enterprise_id: string;
  name: string | null;
  credit_level: CreditLevel;
  credit_source: CreditSource;
  reason: string | null;
  updated_by: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const toRecord = (r: EnterpriseRow): EnterpriseRecord => ({
  id: r.enterprise_id,
  name: r.name,
  creditLevel: r.credit_level,
  creditSource: r.credit_source,
  reason: r.reason,
  updatedBy: r.updated_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export function enterprisesRepo(db: Queryable) {
  return {
    async get(id: string, q: Queryable = db): Promise<EnterpriseRecord | null> {
      const r = (await q.query<EnterpriseRow>('SELECT * FROM enterprises WHERE enterprise_id = $1', [id])).rows[0];
      return r ? toRecord(r) : null;
    },
    /**
     * A declaration names the enterprise: creates the record, or refreshes its name and level from the
     * newest declaration — unless risk control set the level, which then stays (the name still fills in).
     */
    async fromDeclaration(q: Queryable, e: DeclaredEnterprise, submittedBy: string): Promise<void> {
      await q.query(
        `INSERT INTO enterprises (enterprise_id, name, credit_level, credit_source, updated_by) VALUES ($1, $2, $3, 'declaration', $4)
         ON CONFLICT (enterprise_id) DO UPDATE SET
           name = COALESCE(EXCLUDED.name, enterprises.name),
           credit_level = CASE WHEN enterprises.credit_source = 'risk-control' THEN enterprises.credit_level ELSE EXCLUDED.credit_level END,
           updated_by = CASE WHEN enterprises.credit_source = 'risk-control' THEN enterprises.updated_by ELSE EXCLUDED.updated_by END,
           updated_at = CASE WHEN enterprises.credit_source = 'risk-control' THEN enterprises.updated_at ELSE now() END`,
        [e.id, e.name ?? null, e.creditLevel, submittedBy],
      );
    },
    /** Risk control sets the level (and optionally the name); answers the record before and after. */
    async setByRiskControl(
      q: Queryable,
      input: { id: string; creditLevel: CreditLevel; name?: string; reason: string; actor: string },
    ): Promise<{ before: EnterpriseRecord | null; after: EnterpriseRecord }> {
      await lockKey(q, `enterprise:${input.id}`);
      const before = (await q.query<EnterpriseRow>('SELECT * FROM enterprises WHERE enterprise_id = $1 FOR UPDATE', [input.id])).rows[0];
      const r = (
        await q.query<EnterpriseRow>(
          `INSERT INTO enterprises (enterprise_id, name, credit_level, credit_source, reason, updated_by) VALUES ($1, $2, $3, 'risk-control', $4, $5)
           ON CONFLICT (enterprise_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, enterprises.name), credit_level = EXCLUDED.credit_level,
             credit_source = 'risk-control', reason = EXCLUDED.reason, updated_by = EXCLUDED.updated_by, updated_at = now()
           RETURNING *`,
          [input.id, input.name ?? null, input.creditLevel, input.reason, input.actor],
        )
      ).rows[0]!;
      return { before: before ? toRecord(before) : null, after: toRecord(r) };
    },
    /** What happened to the enterprise's shipments in the last `days` days: counts only. */
    async summary(id: string, days: number): Promise<EnterpriseSummary> {
      const since = (await db.query<{ since: Date | string }>(`SELECT now() - ($1::double precision * interval '1 day') AS since`, [days])).rows[0]!.since;
      const declarations = (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM declarations WHERE enterprise_id = $1 AND created_at >= $2', [id, since])).rows[0]!;
      const verdictRows = (
        await db.query<{ source: string; decision: string; n: string; scans: string }>(
          `SELECT v.source, v.decision, count(*)::text AS n, count(DISTINCT v.scan_id)::text AS scans
           FROM verdicts v
           WHERE v.body->>'declarationId' IN (SELECT declaration_id FROM declarations WHERE enterprise_id = $1) AND v.created_at >= $2
           GROUP BY GROUPING SETS ((v.source, v.decision), ())`,
          [id, since],
        )
      ).rows;
      const inspectionRows = (
        await db.query<{ result: string; n: string }>(
          'SELECT result, count(*)::text AS n FROM inspections WHERE enterprise_id = $1 AND created_at >= $2 GROUP BY result',
          [id, since],
        )
      ).rows;
      const zero = (): DecisionCounts => ({ clear: 0, review: 0, hold: 0 });
      const verdicts = Object.fromEntries(VERDICT_SOURCES.map((s) => [s, zero()])) as EnterpriseSummary['verdicts'];
      let scans = 0;
      for (const r of verdictRows) {
        if (r.source === null) {
          scans = Number(r.scans);
          continue;
        }
        const bySource = verdicts[r.source as keyof typeof verdicts];
        if (bySource && r.decision in bySource) bySource[r.decision as keyof DecisionCounts] = Number(r.n);
      }
      const inspections = Object.fromEntries(INSPECTION_RESULTS.map((k) => [k, 0])) as EnterpriseSummary['inspections'];
      inspections.total = 0;
      for (const r of inspectionRows) {
        if (r.result in inspections) inspections[r.result as InspectionResult] = Number(r.n);
        inspections.total += Number(r.n);
      }
      return { since: iso(since), days, declarations: Number(declarations.n), scans, verdicts, inspections };
    },
  };
}
