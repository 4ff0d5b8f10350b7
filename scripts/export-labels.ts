// `npm run cli -- export-labels --format coco|yolo --since <date> --out <dir>`: a versioned snapshot of
// the boxes reviewers and inspectors drew, with the renderings they were drawn on. The snapshot's name
// carries a content hash, so the same labels export to the same version.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Sql } from '../storage/db/sql.js';
import type { ObjectStore } from '../storage/objects/object-store.js';
import { inspectionsRepo, type LabelledScan } from '../storage/repos/inspections.js';

export type LabelFormat = 'coco' | 'yolo';

export async function exportLabels(db: Sql, objects: ObjectStore | null, opts: { format: LabelFormat; since: string; out: string }): Promise<{ dir: string; version: string; images: number; annotations: number }> {
  const labelled = (await inspectionsRepo(db).labelsSince(opts.since)).filter((l) => l.rendering);
  // One image per scan; every source's boxes on it.
  const byScan = new Map<string, LabelledScan[]>();
  for (const l of labelled) byScan.set(l.scanId, [...(byScan.get(l.scanId) ?? []), l]);
  const classes = [...new Set(labelled.flatMap((l) => l.labels.map((b) => b.label)))].sort();
  const content = JSON.stringify([...byScan].map(([scanId, ls]) => [scanId, ls.map((l) => [l.source, l.at, l.labels])]));
  const version = `${new Date().toISOString().slice(0, 10)}-${createHash('sha256').update(`${opts.format}\n${content}`).digest('hex').slice(0, 12)}`;
  const dir = join(opts.out, `labels-${opts.format}-${version}`);
  await mkdir(join(dir, 'images'), { recursive: true });
  let annotations = 0;
  const coco = { images: [] as unknown[], annotations: [] as unknown[], categories: classes.map((name, i) => ({ id: i + 1, name })) };
  if (opts.format === 'yolo') await mkdir(join(dir, 'labels'), { recursive: true });
  let imageId = 0;
  for (const [scanId, ls] of byScan) {
    const { width, height } = ls[0]!.rendering!;
    const file = `${scanId}.png`;
    if (objects && ls[0]!.renderingKey) {
      const png = await objects.get(ls[0]!.renderingKey).catch(() => null);
      if (png) await writeFile(join(dir, 'images', file), png);
    }
    imageId++;
    const boxes = ls.flatMap((l) => l.labels.map((b) => ({ ...b, source: l.source })));
    annotations += boxes.length;
    if (opts.format === 'coco') {
      coco.images.push({ id: imageId, file_name: `images/${file}`, width, height, scan_id: scanId });
      for (const b of boxes) {
        const [x1, y1, x2, y2] = b.box;
        coco.annotations.push({ id: coco.annotations.length + 1, image_id: imageId, category_id: classes.indexOf(b.label) + 1, bbox: [x1, y1, x2 - x1, y2 - y1], area: (x2 - x1) * (y2 - y1), iscrowd: 0, source: b.source });
      }
    } else {
      const lines = boxes.map((b) => {
        const [x1, y1, x2, y2] = b.box;
        const f = (n: number) => n.toFixed(6);
        return `${classes.indexOf(b.label)} ${f((x1 + x2) / 2 / width)} ${f((y1 + y2) / 2 / height)} ${f((x2 - x1) / width)} ${f((y2 - y1) / height)}`;
      });
      await writeFile(join(dir, 'labels', `${scanId}.txt`), lines.join('\n') + '\n');
    }
  }
  if (opts.format === 'coco') await writeFile(join(dir, 'annotations.json'), JSON.stringify(coco, null, 1));
  else await writeFile(join(dir, 'classes.txt'), classes.join('\n') + '\n');
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ version, format: opts.format, since: opts.since, exportedAt: new Date().toISOString(), images: byScan.size, annotations, classes }, null, 2));
  return { dir, version, images: byScan.size, annotations };
}
