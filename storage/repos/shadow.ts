// Shadow assessments: what a candidate policy or candidate models would have decided, recorded beside what the
// active ones did.
import type { ShadowAssessment } from '../../domain/assessment/shadow.js';
import type { Queryable } from '../db/sql.js';

export interface ShadowSummary {
  candidateVersion: string;
  scans: number;
  differing: number;
  /** active decision → candidate decision → count, for the scans whose decision differs. */
  decisionChanges: Record<string, Record<string, number>>;
}

export interface ShadowScan {
  scanId: string;
  activeVersion: string;
  activeDecision: string;
  candidateDecision: string;
  differs: boolean;
  differences: ShadowAssessment['differences'];
  at: string;
  /** `created_at` to the microsecond, as stored (`at` keeps milliseconds): what a page's cursor must carry, or two
   * rows in one millisecond on either side of a page's end would lose the older one. */
  position: string;
}

export function shadowRepo(db: Queryable) {
  return {
    /**
     * One candidate's scans, newest first; `before` ([at, scanId] of the last item of the previous page) pages on.
     * `differing`: only the scans where the candidate differs.
     */
    async scans(candidateVersion: string, o: { differing: boolean; limit: number; before?: [string, string] }): Promise<ShadowScan[]> {
      const params: unknown[] = [candidateVersion, o.limit];
      const where = ['candidate_version = $1'];
      if (o.differing) where.push('differs');
      if (o.before) {
        params.push(o.before[0], o.before[1]);
        where.push('(created_at, scan_id) < ($3::timestamptz, $4)');
      }
      const rows = (
        await db.query<{ scan_id: string; active_version: string; active_decision: string; candidate_decision: string; differs: boolean; differences: ShadowScan['differences']; created_at: Date | string; position: string }>(
          `SELECT scan_id, active_version, active_decision, candidate_decision, differs, differences, created_at,
                  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position FROM shadow_assessments
           WHERE ${where.join(' AND ')} ORDER BY created_at DESC, scan_id DESC LIMIT $2`,
          params,
        )
      ).rows;
      return rows.map((r) => ({
        scanId: r.scan_id,
        activeVersion: r.active_version,
        activeDecision: r.active_decision,
        candidateDecision: r.candidate_decision,
        differs: r.differs,
        differences: r.differences,
        at: new Date(r.created_at).toISOString(),
        position: r.position,
      }));
    },
    /** `candidateVersion`: what the candidate is, when more than its policy (e.g. `<policy>+<model>@<version>`). */
    async record(scanId: string, s: ShadowAssessment, candidateVersion = s.candidate.policyVersion, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO shadow_assessments (scan_id, active_version, candidate_version, active_decision, candidate_decision, differs, differences)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scan_id) DO NOTHING`,
        [scanId, s.active.policyVersion, candidateVersion, s.active.decision, s.candidate.decision, s.differences.differs, JSON.stringify(s.differences)],
      );
    },
    async summary(): Promise<ShadowSummary[]> {
      const rows = (
        await db.query<{ candidate_version: string; active_decision: string; candidate_decision: string; n: number; differing: number }>(
          `SELECT candidate_version, active_decision, candidate_decision, count(*)::int AS n, count(*) FILTER (WHERE differs)::int AS differing
           FROM shadow_assessments GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        )
      ).rows;
      const by = new Map<string, ShadowSummary>();
      for (const r of rows) {
        const s = by.get(r.candidate_version) ?? { candidateVersion: r.candidate_version, scans: 0, differing: 0, decisionChanges: {} };
        s.scans += r.n;
        s.differing += r.differing;
        if (r.active_decision !== r.candidate_decision) {
          (s.decisionChanges[r.active_decision] ??= {})[r.candidate_decision] = r.n;
        }
        by.set(r.candidate_version, s);
      }
      return [...by.values()];
    },
  };
}
