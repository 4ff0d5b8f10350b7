// Scans, their images and pipeline state. Insertion is idempotent on scanId + content hash.
import type { Modality, ScanStatus, ImageRole } from '../../domain/scan.js';
import type { Queryable, Sql } from '../db/sql.js';
import { iso } from '../db/rows.js';

export interface ScanImage {
  role: ImageRole;
  objectKey: string;
  format: 'png' | 'tiff' | 'jpeg' | 'dicom';
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
  bytes: number;
  sha256: string;
}

export interface NewScan {
  scanId: string;
  gatewayId: string;
  scannerId: string;
  modality: Modality;
  containerNo?: string;
  waybill?: string;
  capturedAt: string;
  weightKg?: number;
  contentHash: string;
  images: ScanImage[];
}

export interface Scan extends Omit<NewScan, 'containerNo' | 'waybill' | 'weightKg'> {
  containerNo: string | null;
  waybill: string | null;
  weightKg: number | null;
  status: ScanStatus;
  renderingKey: string | null;
  rendering: { width: number; height: number; channels: number } | null;
  inference: unknown;
  routedAt: string | null;
  receivedAt: string;
  updatedAt: string;
}

interface ScanRow {
  scan_id: string;
  gateway_id: string;
  scanner_id: string;
  modality: Modality;
  container_no: string | null;
  waybill: string | null;
  captured_at: Date | string;
  weight_kg: number | null;
  content_hash: string;
  status: ScanStatus;
  rendering_key: string | null;
  rendering: Scan['rendering'];
  inference: unknown;
  routed_at: Date | string | null;
  received_at: Date | string;
  updated_at: Date | string;
}
interface ImageRow {
  scan_id: string;
  role: ImageRole;
  object_key: string;
  format: ScanImage['format'];
  width: number;
  height: number;
  channels: number;
  bit_depth: number;
  bytes: string | number;
  sha256: string;
}

/** A scan's row without its images: what a stage's update returns (the images never change after ingest). */
export type ScanState = Omit<Scan, 'images'>;

function toState(r: ScanRow): ScanState {
  return {
    scanId: r.scan_id,
    gatewayId: r.gateway_id,
    scannerId: r.scanner_id,
    modality: r.modality,
    containerNo: r.container_no,
    waybill: r.waybill,
    capturedAt: iso(r.captured_at),
    weightKg: r.weight_kg,
    contentHash: r.content_hash,
    status: r.status,
    renderingKey: r.rendering_key,
    rendering: r.rendering,
    inference: r.inference,
    routedAt: r.routed_at ? iso(r.routed_at) : null,
    receivedAt: iso(r.received_at),
    updatedAt: iso(r.updated_at),
  };
}

function toScan(r: ScanRow, images: ImageRow[]): Scan {
  return {
    ...toState(r),
    images: images.map((i) => ({
      role: i.role,
      objectKey: i.object_key,
      format: i.format,
      width: i.width,
      height: i.height,
      channels: i.channels,
      bitDepth: i.bit_depth,
      bytes: Number(i.bytes),
      sha256: i.sha256,
    })),
  };
}

/**
 * Runs a stage's conditional status update (`… RETURNING *`): the scan's row as it left it, or null when another run
 * had already moved the scan on.
 */
async function advance(q: Queryable, sql: string, params: unknown[]): Promise<ScanState | null> {
  const row = (await q.query<ScanRow>(sql, params)).rows[0];
  return row ? toState(row) : null;
}

/** scan_images' columns after scan_id, as the insert's VALUES rows type them. */
const IMAGE_COLUMN_TYPES = ['text', 'text', 'text', 'integer', 'integer', 'integer', 'integer', 'bigint', 'text'] as const;

export type InsertResult = { outcome: 'created' | 'existing'; scan: Scan } | { outcome: 'conflict'; scan: Scan };

export function scansRepo(db: Sql) {
  // every stage reads its scan first: the scan and its images in one round trip
  async function get(scanId: string, q: Queryable = db): Promise<Scan | null> {
    const rows = (
      await q.query<ScanRow & { images: ImageRow[] }>(
        `SELECT s.*, coalesce((SELECT json_agg(i ORDER BY i.role) FROM scan_images i WHERE i.scan_id = s.scan_id), '[]'::json) AS images
         FROM scans s WHERE s.scan_id = $1`,
        [scanId],
      )
    ).rows;
    return rows[0] ? toScan(rows[0], rows[0].images) : null;
  }

  return {
    get,
    /**
     * Stores a scan and its images in one statement (atomic as a transaction is, in one round trip instead of four:
     * the images are inserted only beside a scan row this statement inserted). The same scanId with the same
     * content is a retry (existing); with other content a conflict. Nothing stored is ever changed here.
     */
    async insert(scan: NewScan): Promise<InsertResult> {
      // the images as typed VALUES rows (a dual-energy pair is two), joined to the inserted scan: none on a conflict
      const images = scan.images.map((_, k) => `(${IMAGE_COLUMN_TYPES.map((type, c) => `$${10 + k * IMAGE_COLUMN_TYPES.length + c}::${type}`).join(', ')})`);
      const inserted = await db.query<ScanRow>(
        `WITH s AS (
           INSERT INTO scans (scan_id, gateway_id, scanner_id, modality, container_no, waybill, captured_at, weight_kg, content_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (scan_id) DO NOTHING RETURNING *
         )${images.length ? `, i AS (
           INSERT INTO scan_images (scan_id, role, object_key, format, width, height, channels, bit_depth, bytes, sha256)
           SELECT s.scan_id, v.* FROM s, (VALUES ${images.join(', ')}) AS v
         )` : ''}
         SELECT * FROM s`,
        [scan.scanId, scan.gatewayId, scan.scannerId, scan.modality, scan.containerNo ?? null, scan.waybill ?? null,
          scan.capturedAt, scan.weightKg ?? null, scan.contentHash,
          ...scan.images.flatMap((img) => [img.role, img.objectKey, img.format, img.width, img.height, img.channels, img.bitDepth, img.bytes, img.sha256])],
      );
      if (inserted.rows.length === 0) {
        const existing = (await get(scan.scanId))!;
        const same = existing.contentHash === scan.contentHash && existing.gatewayId === scan.gatewayId;
        return { outcome: same ? 'existing' : 'conflict', scan: existing };
      }
      // the stored scan from the inserted row, its images in the order a read gives them (by role)
      const sorted = [...scan.images].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
      return { outcome: 'created', scan: { ...toState(inserted.rows[0]!), images: sorted } };
    },
    async markPreprocessed(scanId: string, renderingKey: string, rendering: NonNullable<Scan['rendering']>, q: Queryable = db): Promise<ScanState | null> {
      return advance(
        q,
        `UPDATE scans SET status = 'preprocessed', rendering_key = $2, rendering = $3, updated_at = now()
         WHERE scan_id = $1 AND status = 'received' RETURNING *`,
        [scanId, renderingKey, JSON.stringify(rendering)],
      );
    },
    /**
     * Stores the model outputs and the rendering they were made from (what markPreprocessed stores: preprocess
     * leaves it to this update when infer runs in the same job).
     */
    async markInferred(scanId: string, inference: unknown, preprocessed: { renderingKey: string; rendering: NonNullable<Scan['rendering']> }, q: Queryable = db): Promise<ScanState | null> {
      return advance(
        q,
        `UPDATE scans SET status = 'inferred', inference = $2, rendering_key = $3, rendering = $4, updated_at = now()
         WHERE scan_id = $1 AND status IN ('received', 'preprocessed') RETURNING *`,
        [scanId, JSON.stringify(inference), preprocessed.renderingKey, JSON.stringify(preprocessed.rendering)],
      );
    },
    /**
     * Marks the scan routed; false when it already was. Inside the routing transaction it is taken first: the row
     * lock makes a concurrent routing of the same scan wait and then find it routed, so a verdict is routed once.
     * `assessed`: the same statement moves the scan to `assessed` (the transaction storing its machine verdict).
     */
    async markRouted(scanId: string, q: Queryable = db, opts: { assessed?: boolean } = {}): Promise<boolean> {
      const r = await q.query(
        `UPDATE scans SET ${opts.assessed ? "status = 'assessed', " : ''}routed_at = now(), updated_at = now() WHERE scan_id = $1 AND routed_at IS NULL RETURNING scan_id`,
        [scanId],
      );
      return r.rows.length > 0;
    },
    /** Scans that have not finished the pipeline and have not moved for `idleMs`: the sweeper's work list. */
    async findStalled(idleMs: number, limit: number): Promise<Array<{ scanId: string; status: ScanStatus }>> {
      const rows = (
        await db.query<{ scan_id: string; status: ScanStatus }>(
          `SELECT scan_id, status FROM scans
           WHERE routed_at IS NULL AND updated_at < now() - ($1::double precision * interval '1 millisecond')
           ORDER BY updated_at LIMIT $2`,
          [idleMs, limit],
        )
      ).rows;
      return rows.map((r) => ({ scanId: r.scan_id, status: r.status }));
    },
    /** Bumps updated_at so a re-enqueued scan is not picked again by the next sweep at once. */
    async touch(scanId: string) {
      await db.query('UPDATE scans SET updated_at = now() WHERE scan_id = $1', [scanId]);
    },
  };
}

export type ScansRepo = ReturnType<typeof scansRepo>;
