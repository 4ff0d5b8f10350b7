// The reference library: embeddings of verified scans per HS code (inspection, supervisor approval or
// import), soft removal with who and why, and the inspection candidates awaiting promotion.
import type { Modality } from '../../domain/scan.js';
import type { Queryable } from '../db/sql.js';
import { iso } from '../db/rows.js';

export const REFERENCE_SOURCES = ['inspection', 'approval', 'import'] as const;
export type ReferenceSource = (typeof REFERENCE_SOURCES)[number];

export interface NewReference {
  hsCode: string;
  modality: Modality;
  scannerId?: string | null;
  scanId?: string | null;
  imageKey: string;
  model: string;
  modelVersion: string;
  embedding: number[];
  /** A long container's tile vectors (rendering pixels), as the runtime gave them; absent otherwise. */
  tileEmbeddings?: ReferenceTile[] | null;
  source: ReferenceSource;
  inspectionId?: string | null;
  sourceFile?: string | null;
  addedBy: string;
}

export interface ReferenceTile {
  x: number;
  width: number;
  embedding: number[];
}

export interface Reference extends Required<Omit<NewReference, 'embedding' | 'tileEmbeddings'>> {
  id: string;
  createdAt: string;
  removedAt: string | null;
  removedBy: string | null;
  removedReason: string | null;
}

export interface ReferenceCandidate {
  id: string;
  scanId: string;
  hsCode: string;
  inspectionId: string;
  status: 'pending' | 'promoted' | 'approved';
  referenceId: string | null;
  createdAt: string;
}

interface Row {
  id: string | number;
  hs_code: string;
  modality: Modality;
  scanner_id: string | null;
  scan_id: string | null;
  image_key: string;
  model: string;
  model_version: string;
  embedding?: number[] | string;
  source: ReferenceSource;
  inspection_id: string | number | null;
  source_file: string | null;
  added_by: string;
  created_at: Date | string;
  removed_at: Date | string | null;
  removed_by: string | null;
  removed_reason: string | null;
}

/** JSONB arrives parsed from pg and PGlite alike; a string is parsed (a driver configured otherwise). */
const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

const toReference = (r: Row): Reference => ({
  id: String(r.id),
  hsCode: r.hs_code,
  modality: r.modality,
  scannerId: r.scanner_id,
  scanId: r.scan_id,
  imageKey: r.image_key,
  model: r.model,
  modelVersion: r.model_version,
  source: r.source,
  inspectionId: r.inspection_id === null ? null : String(r.inspection_id),
  sourceFile: r.source_file,
  addedBy: r.added_by,
  createdAt: iso(r.created_at)!,
  removedAt: iso(r.removed_at),
  removedBy: r.removed_by,
  removedReason: r.removed_reason,
});

const COLUMNS = 'id, hs_code, modality, scanner_id, scan_id, image_key, model, model_version, source, inspection_id, source_file, added_by, created_at, removed_at, removed_by, removed_reason';

export function referencesRepo(db: Queryable) {
  return {
    /** Adds one reference; `q` may be the caller's transaction. Returns its id. */
    async add(r: NewReference, q: Queryable = db): Promise<string> {
      const res = await q.query<{ id: string | number }>(
        `INSERT INTO reference_scans (hs_code, modality, scanner_id, scan_id, image_key, model, model_version, embedding, tile_embeddings, source, inspection_id, source_file, added_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
        [
          r.hsCode, r.modality, r.scannerId ?? null, r.scanId ?? null, r.imageKey, r.model, r.modelVersion, JSON.stringify(r.embedding),
          r.tileEmbeddings?.length ? JSON.stringify(r.tileEmbeddings.map((t) => ({ x: t.x, width: t.width, embedding: t.embedding }))) : null,
          r.source, r.inspectionId ?? null, r.sourceFile ?? null, r.addedBy,
        ],
      );
      return String(res.rows[0]!.id);
    },
    async get(id: string): Promise<Reference | null> {
      if (!/^\d{1,18}$/.test(id)) return null;
      const r = (await db.query<Row>(`SELECT ${COLUMNS} FROM reference_scans WHERE id = $1`, [id])).rows[0];
      return r ? toReference(r) : null;
    },
    /** Live references, optionally of one code prefix (2–10 digits), newest first. */
    async list(o: { hsPrefix?: string; includeRemoved?: boolean } = {}): Promise<Reference[]> {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM reference_scans WHERE ($1::text IS NULL OR hs_code LIKE $1 || '%') AND ($2 OR removed_at IS NULL) ORDER BY created_at DESC, id DESC`,
        [o.hsPrefix ?? null, o.includeRemoved ?? false],
      );
      return r.rows.map(toReference);
    },
    /**
     * The vectors kNN matching searches: live references of one modality made by one model version, each
     * with its tile vectors (`tiles`, only for references made from a long container).
     */
    async vectors(modality: Modality, model: string, modelVersion: string): Promise<Array<{ referenceId: string; hsCode: string; embedding: number[]; tiles?: number[][] }>> {
      const r = await db.query<{ id: string | number; hs_code: string; embedding: number[] | string; tile_embeddings: ReferenceTile[] | string | null }>(
        'SELECT id, hs_code, embedding, tile_embeddings FROM reference_scans WHERE modality = $1 AND model = $2 AND model_version = $3 AND removed_at IS NULL ORDER BY id',
        [modality, model, modelVersion],
      );
      return r.rows.map((x) => {
        const tiles = json(x.tile_embeddings);
        return { referenceId: String(x.id), hsCode: x.hs_code, embedding: json(x.embedding), ...(tiles?.length && { tiles: tiles.map((t) => t.embedding) }) };
      });
    },
    /** A reference's tile vectors with where they lie (null when it has none). */
    async tiles(id: string): Promise<ReferenceTile[] | null> {
      if (!/^\d{1,18}$/.test(id)) return null;
      const r = (await db.query<{ tile_embeddings: ReferenceTile[] | string | null }>('SELECT tile_embeddings FROM reference_scans WHERE id = $1', [id])).rows[0];
      return r ? json(r.tile_embeddings) : null;
    },
    /**
     * A cheap fingerprint of the vectors `vectors()` would return: changes whenever a reference of that
     * modality and model version is added or removed (rows are never deleted, only soft-removed).
     */
    async vectorsStamp(modality: Modality, model: string, modelVersion: string): Promise<string> {
      const r = await db.query<{ live: number; max_id: string | number | null; removed: string | null }>(
        `SELECT count(*) FILTER (WHERE removed_at IS NULL)::int AS live, max(id) AS max_id, max(removed_at)::text AS removed
           FROM reference_scans WHERE modality = $1 AND model = $2 AND model_version = $3`,
        [modality, model, modelVersion],
      );
      const row = r.rows[0];
      return `${row?.live ?? 0}:${row?.max_id ?? 0}:${row?.removed ?? ''}`;
    },
    /** Soft removal; false when there is no live reference with that id. `q`: the caller's transaction. */
    async remove(id: string, by: string, reason: string, q: Queryable = db): Promise<Reference | null> {
      if (!/^\d{1,18}$/.test(id)) return null;
      const r = await q.query<Row>(
        `UPDATE reference_scans SET removed_at = now(), removed_by = $2, removed_reason = $3 WHERE id = $1 AND removed_at IS NULL RETURNING ${COLUMNS}`,
        [id, by, reason],
      );
      return r.rows[0] ? toReference(r.rows[0]) : null;
    },
    async candidate(id: string, q: Queryable = db): Promise<ReferenceCandidate | null> {
      if (!/^\d{1,18}$/.test(id)) return null;
      const r = (await q.query<CandidateRow>('SELECT * FROM reference_candidates WHERE id = $1', [id])).rows[0];
      return r ? toCandidate(r) : null;
    },
    async candidates(status?: ReferenceCandidate['status']): Promise<ReferenceCandidate[]> {
      const r = await db.query<CandidateRow>('SELECT * FROM reference_candidates WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at, id', [status ?? null]);
      return r.rows.map(toCandidate);
    },
    async candidatesOf(q: Queryable, inspectionId: string): Promise<ReferenceCandidate[]> {
      const r = await q.query<CandidateRow>('SELECT * FROM reference_candidates WHERE inspection_id = $1 ORDER BY id', [inspectionId]);
      return r.rows.map(toCandidate);
    },
    /** Marks a pending candidate promoted/approved; false when another request got there first. */
    async settleCandidate(q: Queryable, id: string, status: 'promoted' | 'approved', referenceId: string): Promise<boolean> {
      const r = await q.query('UPDATE reference_candidates SET status = $2, reference_id = $3 WHERE id = $1 AND status = $4 RETURNING id', [id, status, referenceId, 'pending']);
      return r.rows.length === 1;
    },
  };
}

interface CandidateRow {
  id: string | number;
  scan_id: string;
  hs_code: string;
  inspection_id: string | number;
  status: ReferenceCandidate['status'];
  reference_id: string | number | null;
  created_at: Date | string;
}

const toCandidate = (r: CandidateRow): ReferenceCandidate => ({
  id: String(r.id),
  scanId: r.scan_id,
  hsCode: r.hs_code,
  inspectionId: String(r.inspection_id),
  status: r.status,
  referenceId: r.reference_id === null ? null : String(r.reference_id),
  createdAt: iso(r.created_at)!,
});
