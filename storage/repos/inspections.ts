// Physical inspection results, the reference candidates they verify (a later library builds on these),
// and the labelled data reviewers and inspectors drew, for dataset exports.
import type { Box } from '../../domain/verdict.js';
import type { Queryable } from '../db/sql.js';

export const INSPECTION_RESULTS = ['nothing', 'undeclared-goods', 'prohibited-item', 'quantity-difference'] as const;
export type InspectionResult = (typeof INSPECTION_RESULTS)[number];

export interface LabelledScan {
  scanId: string;
  source: 'reviewer' | 'inspection';
  at: string;
  renderingKey: string | null;
  rendering: { width: number; height: number } | null;
  labels: Array<{ label: string; box: Box }>;
}

export function inspectionsRepo(db: Queryable) {
  return {
    async add(
      q: Queryable,
      input: {
        scanId: string; result: InspectionResult; findings?: string; labels: Array<{ label: string; box: Box }>; photos: string[]; enterpriseId: string | null; inspector: string; verdictId: string;
        /** A retry's key (scoped to its client) and the request's hash (idempotentAnswer). */
        idempotency?: { key: string; requestHash: string };
      },
    ): Promise<string> {
      const r = await q.query<{ id: string | number }>(
        `INSERT INTO inspections (scan_id, result, findings, labels, photos, enterprise_id, inspector, verdict_id, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [input.scanId, input.result, input.findings ?? null, JSON.stringify(input.labels), JSON.stringify(input.photos), input.enterpriseId, input.inspector, input.verdictId, input.idempotency?.key ?? null, input.idempotency?.requestHash ?? null],
      );
      return String(r.rows[0]!.id);
    },
    /** Keeps what the route answered for an inspection sent with an idempotency key, to answer its retries. */
    async keepAnswer(q: Queryable, inspectionId: string, answer: unknown): Promise<void> {
      await q.query('UPDATE inspections SET answer = $2 WHERE id = $1', [inspectionId, JSON.stringify(answer)]);
    },
    /** The inspection recorded under this (scoped) idempotency key: its request's hash and the answer given. */
    async byIdempotencyKey(key: string): Promise<{ requestHash: string; answer: unknown } | null> {
      const r = await db.query<{ request_hash: string; answer: unknown }>('SELECT request_hash, answer FROM inspections WHERE idempotency_key = $1', [key]);
      return r.rows[0] ? { requestHash: r.rows[0].request_hash, answer: r.rows[0].answer } : null;
    },
    async addReferenceCandidates(q: Queryable, scanId: string, hsCodes: string[], inspectionId: string): Promise<void> {
      for (const hs of new Set(hsCodes)) {
        await q.query('INSERT INTO reference_candidates (scan_id, hs_code, inspection_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [scanId, hs, inspectionId]);
      }
    },
    async referenceCandidates(hsCode?: string): Promise<Array<{ scanId: string; hsCode: string; inspectionId: string }>> {
      const r = await db.query<{ scan_id: string; hs_code: string; inspection_id: string | number }>(
        'SELECT * FROM reference_candidates WHERE ($1::text IS NULL OR hs_code = $1) ORDER BY created_at, scan_id',
        [hsCode ?? null],
      );
      return r.rows.map((x) => ({ scanId: x.scan_id, hsCode: x.hs_code, inspectionId: String(x.inspection_id) }));
    },
    /** Boxes drawn by reviewers (decisions that counted) and inspectors since a moment, oldest first. */
    async labelsSince(since: string): Promise<LabelledScan[]> {
      const r = await db.query<{ scan_id: string; source: 'reviewer' | 'inspection'; at: Date | string; labels: Array<{ label: string; box: Box }>; rendering_key: string | null; rendering: { width: number; height: number } | null }>(
        `SELECT x.scan_id, x.source, x.at, x.labels, s.rendering_key, s.rendering FROM (
           SELECT scan_id, 'reviewer' AS source, created_at AS at, boxes AS labels FROM review_decisions
             WHERE status = 'counted' AND jsonb_array_length(boxes) > 0 AND created_at >= $1
           UNION ALL
           SELECT scan_id, 'inspection' AS source, created_at AS at, labels FROM inspections
             WHERE jsonb_array_length(labels) > 0 AND created_at >= $1
         ) x JOIN scans s ON s.scan_id = x.scan_id ORDER BY x.at, x.scan_id`,
        [since],
      );
      return r.rows.map((x) => ({ scanId: x.scan_id, source: x.source, at: new Date(x.at).toISOString(), renderingKey: x.rendering_key, rendering: x.rendering, labels: x.labels }));
    },
  };
}
