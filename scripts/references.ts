// `npm run cli -- references import|list|remove`: the operator's side of the reference library. Import
// takes a user's own labelled archive filed by HS code (<folder>/<hs code>/<image>), embeds every image
// with the registered embedding model and reports each file (imported, or why it was rejected).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import sharp from 'sharp';
import { normalizeHsCode, validateHsCode, hsExists } from '../domain/hs/hs.js';
import { MODALITIES, type Modality } from '../domain/scan.js';
import type { Rendering } from '../models/runtime/types.js';
import type { Sql } from '../storage/db/sql.js';
import type { ObjectStore } from '../storage/objects/object-store.js';
import { auditRepo } from '../storage/repos/audit.js';
import { referencesRepo, type ReferenceTile } from '../storage/repos/references.js';

/** The registered embedding model on one rendering: its vector and, for a long container, its tile vectors. */
export type Embedder = (rendering: Rendering) => Promise<{ model: string; version: string; embedding: number[]; tiles?: ReferenceTile[] }>;

export interface FileReport {
  file: string;
  hsCode: string;
  outcome: 'imported' | 'rejected' | 'skipped';
  referenceId?: string;
  code?: string;
  message?: string;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp']);

/** A folder name as an HS code: 10 digits whose subheading exists, or an existing 6-digit subheading. */
export function folderHsCode(name: string): { ok: true; hsCode: string } | { ok: false; code: string; message: string } {
  const c = normalizeHsCode(name);
  if (/^[0-9]{6}$/.test(c)) return hsExists(c) ? { ok: true, hsCode: c } : { ok: false, code: 'HS_CODE_UNKNOWN', message: `subheading ${c} does not exist in HS 2022` };
  const v = validateHsCode(name);
  return v.ok ? { ok: true, hsCode: v.hsCode } : { ok: false, code: v.code, message: v.message };
}

/** An image file as an 8-bit grey rendering (what the embedding model of a container scan reads). */
export async function readRendering(bytes: Buffer): Promise<Rendering> {
  const { data, info } = await sharp(bytes).greyscale().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 1, data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height) };
}

export async function importReferences(
  deps: { db: Sql; objects: ObjectStore; embed: Embedder },
  folder: string,
  o: { modality: Modality; actor: string; dryRun?: boolean },
): Promise<FileReport[]> {
  const refs = referencesRepo(deps.db);
  const reports: FileReport[] = [];
  const existing = new Set((await refs.list()).filter((r) => r.source === 'import').map((r) => r.imageKey));
  const dirs = (await readdir(folder, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const dir of dirs) {
    const code = folderHsCode(dir);
    const files = (await readdir(join(folder, dir))).sort();
    for (const name of files) {
      const path = join(folder, dir, name);
      const file = relative(folder, path);
      if (!(await stat(path)).isFile()) continue;
      if (!code.ok) {
        reports.push({ file, hsCode: dir, outcome: 'rejected', code: code.code, message: code.message });
        continue;
      }
      if (!IMAGE_EXT.has(extname(name).toLowerCase())) {
        reports.push({ file, hsCode: code.hsCode, outcome: 'rejected', code: 'NOT_AN_IMAGE', message: `${extname(name) || 'no extension'} is not an image type (png, jpeg, tiff, webp)` });
        continue;
      }
      const bytes = await readFile(path);
      let rendering: Rendering;
      try {
        rendering = await readRendering(bytes);
      } catch (err) {
        reports.push({ file, hsCode: code.hsCode, outcome: 'rejected', code: 'IMAGE_UNREADABLE', message: err instanceof Error ? err.message : String(err) });
        continue;
      }
      const imageKey = `references/import/${code.hsCode}/${createHash('sha256').update(bytes).digest('hex')}.png`;
      if (existing.has(imageKey)) {
        reports.push({ file, hsCode: code.hsCode, outcome: 'skipped', code: 'ALREADY_IMPORTED', message: 'the same image is already a reference for this code' });
        continue;
      }
      if (o.dryRun) {
        reports.push({ file, hsCode: code.hsCode, outcome: 'imported', message: 'dry run: not stored' });
        continue;
      }
      const e = await deps.embed(rendering);
      const png = await sharp(Buffer.from(rendering.data), { raw: { width: rendering.width, height: rendering.height, channels: 1 } }).png().toBuffer();
      await deps.objects.put(imageKey, png, { contentType: 'image/png', size: png.length });
      const referenceId = await deps.db.transaction(async (tx) => {
        const id = await refs.add({ hsCode: code.hsCode, modality: o.modality, imageKey, model: e.model, modelVersion: e.version, embedding: e.embedding, ...(e.tiles && { tileEmbeddings: e.tiles }), source: 'import', sourceFile: file, addedBy: o.actor }, tx);
        await auditRepo(tx).append(tx, { actor: o.actor, action: 'reference.added', subject: `reference:${id}`, detail: { hsCode: code.hsCode, source: 'import', file } });
        return id;
      });
      existing.add(imageKey);
      reports.push({ file, hsCode: code.hsCode, outcome: 'imported', referenceId });
    }
  }
  return reports;
}

/** Soft-removes a reference and records who and why in the audit log; null when there is none live. */
export async function removeReference(db: Sql, id: string, actor: string, reason: string) {
  return db.transaction(async (tx) => {
    const removed = await referencesRepo(tx).remove(id, actor, reason, tx);
    if (removed) await auditRepo(tx).append(tx, { actor, action: 'reference.removed', subject: `reference:${id}`, detail: { hsCode: removed.hsCode, source: removed.source, reason } });
    return removed;
  });
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const actor = () => `cli:${process.env.USER ?? 'operator'}`;

export async function runReferencesCommand(db: Sql, command: string, args: string[], open: { objects: () => Promise<ObjectStore>; embed: (modality: Modality) => Promise<{ embed: Embedder; close(): Promise<void> }> }): Promise<number> {
  if (command === 'import') {
    const folder = args.find((a) => !a.startsWith('--') && a !== flag(args, 'modality'));
    const modality = (flag(args, 'modality') ?? 'container-xray') as Modality;
    if (!folder || !MODALITIES.includes(modality)) {
      console.error(`usage: references import <folder filed by HS code> [--modality ${MODALITIES.join('|')}] [--dry-run]`);
      return 2;
    }
    const embedder = await open.embed(modality);
    try {
      const reports = await importReferences({ db, objects: await open.objects(), embed: embedder.embed }, folder, { modality, actor: actor(), dryRun: args.includes('--dry-run') });
      for (const r of reports) {
        console.log(`${r.outcome.padEnd(8)} ${r.file}\t${r.hsCode}${r.referenceId ? `\treference ${r.referenceId}` : ''}${r.code ? `\t${r.code}: ${r.message}` : r.message ? `\t${r.message}` : ''}`);
      }
      const n = (o: FileReport['outcome']) => reports.filter((r) => r.outcome === o).length;
      console.log(`${n('imported')} imported, ${n('skipped')} skipped, ${n('rejected')} rejected of ${reports.length} files`);
      return n('rejected') > 0 ? 1 : 0;
    } finally {
      await embedder.close();
    }
  }
  if (command === 'list') {
    const refs = await referencesRepo(db).list({ ...(flag(args, 'hs') && { hsPrefix: normalizeHsCode(flag(args, 'hs')!) }), includeRemoved: args.includes('--all') });
    if (!refs.length) console.log('no references');
    for (const r of refs) {
      const from = r.source === 'import' ? r.sourceFile : r.inspectionId ? `inspection ${r.inspectionId}` : r.scanId;
      console.log(`${r.id}\t${r.hsCode}\t${r.modality}\t${r.source}\t${from ?? ''}\t${r.model}@${r.modelVersion}\tadded ${r.createdAt} by ${r.addedBy}${r.removedAt ? `\tREMOVED ${r.removedAt} by ${r.removedBy}: ${r.removedReason}` : ''}`);
    }
    return 0;
  }
  if (command === 'remove') {
    const [id] = args;
    const reason = flag(args, 'reason');
    if (!id || !reason) {
      console.error('usage: references remove <id> --reason "<why>"   (the removal is audited)');
      return 2;
    }
    const removed = await removeReference(db, id, actor(), reason);
    console.log(removed ? `removed reference ${id} (${removed.hsCode}); audited` : `no live reference ${id}`);
    return removed ? 0 : 1;
  }
  console.error('references commands: import, list, remove');
  return 2;
}
