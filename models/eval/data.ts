// Reading labelled datasets for evaluation: YOLO (images/ + labels/ + class names), COCO (one JSON), and
// folders (one folder per class; names may be HS codes mapped through the HS → category map). Class names
// are mapped onto the model's labels with an optional names map; unmapped names are counted, not guessed.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { visualCategoryOf } from '../../domain/hs/visual-category.js';
import type { Box } from '../../domain/verdict.js';

export const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

export interface DetItem { image: string; boxes: Array<{ label: string; box: Box }>; normalised?: boolean; }
export interface ClsItem { image: string; label: string; }

export interface LabelMapper { map(name: string): string | undefined; unmapped: Map<string, number>; }

/** Maps dataset class names onto model labels: explicit map first, then identity, then HS codes (folders). */
export function labelMapper(modelLabels: readonly string[], names: Record<string, string> = {}, hs = false): LabelMapper {
  const unmapped = new Map<string, number>();
  return {
    unmapped,
    map(name: string): string | undefined {
      const m = names[name] ?? (modelLabels.includes(name) ? name : undefined) ?? (hs && /^\d{2,10}$/.test(name) ? visualCategoryOf(name)?.category : undefined);
      if (m !== undefined && modelLabels.includes(m)) return m;
      unmapped.set(name, (unmapped.get(name) ?? 0) + 1);
      return undefined;
    },
  };
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

/** Class names of a YOLO dataset: classes.txt, names.json ({ detect: [...] } or [...]), or data.yaml names. */
export async function yoloNames(dir: string): Promise<string[]> {
  if (await exists(join(dir, 'classes.txt'))) return (await readFile(join(dir, 'classes.txt'), 'utf8')).split('\n').map((s) => s.trim()).filter(Boolean);
  if (await exists(join(dir, 'names.json'))) {
    const j = JSON.parse(await readFile(join(dir, 'names.json'), 'utf8')) as unknown;
    if (Array.isArray(j)) return j.map(String);
    if (typeof j === 'object' && j !== null && Array.isArray((j as { detect?: unknown }).detect)) return ((j as { detect: unknown[] }).detect).map(String);
  }
  for (const y of ['data.yaml', 'dataset.yaml']) {
    if (!(await exists(join(dir, y)))) continue;
    const text = await readFile(join(dir, y), 'utf8');
    const inline = /^names:\s*\[(.*)\]\s*$/m.exec(text);
    if (inline) return (inline[1] as string).split(',').map((s) => s.trim().replace(/^['"]|['"]$/g, ''));
    const block = /^names:\s*\n((?:\s+.*\n?)+)/m.exec(text);
    if (block) return (block[1] as string).split('\n').map((l) => /^\s+(?:\d+\s*:\s*|-\s*)(.+)$/.exec(l)?.[1]?.trim().replace(/^['"]|['"]$/g, '')).filter((s): s is string => !!s);
  }
  throw new Error(`${dir}: no class names (classes.txt, names.json or data.yaml)`);
}

/** YOLO: images/ and labels/ (same stem, `class cx cy w h` normalised). Boxes stay normalised until sizes are known. */
export async function readYolo(dir: string): Promise<{ names: string[]; items: DetItem[] }> {
  const names = await yoloNames(dir);
  const imgDir = (await exists(join(dir, 'images'))) ? join(dir, 'images') : dir;
  const lblDir = (await exists(join(dir, 'labels'))) ? join(dir, 'labels') : dir;
  const files = (await readdir(imgDir)).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).sort();
  const items: DetItem[] = [];
  for (const f of files) {
    const lp = join(lblDir, basename(f, extname(f)) + '.txt');
    const text = (await exists(lp)) ? await readFile(lp, 'utf8') : '';
    const boxes = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [c, cx, cy, w, h] = l.split(/\s+/).map(Number) as [number, number, number, number, number];
      const name = names[c];
      if (name === undefined) throw new Error(`${lp}: class ${c} has no name`);
      return { label: name, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] as Box };
    });
    items.push({ image: join(imgDir, f), boxes, normalised: true });
  }
  return { names, items };
}

interface CocoJson { images: Array<{ id: number; file_name: string }>; annotations: Array<{ image_id: number; category_id: number; bbox: [number, number, number, number] }>; categories: Array<{ id: number; name: string }>; }

/** COCO: `annotations.json` (or the only .json) in dir; images in dir or dir/images; bbox is [x, y, w, h] pixels. */
export async function readCoco(dir: string): Promise<{ names: string[]; items: DetItem[] }> {
  const jsons = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  const jf = jsons.includes('annotations.json') ? 'annotations.json' : jsons.length === 1 ? jsons[0] : undefined;
  if (!jf) throw new Error(`${dir}: expected annotations.json`);
  const coco = JSON.parse(await readFile(join(dir, jf), 'utf8')) as CocoJson;
  const cat = new Map(coco.categories.map((c) => [c.id, c.name]));
  const imgDir = (await exists(join(dir, 'images'))) ? join(dir, 'images') : dir;
  const items = coco.images.map((im) => ({
    image: join(imgDir, im.file_name),
    boxes: coco.annotations.filter((a) => a.image_id === im.id).map((a) => ({ label: cat.get(a.category_id) ?? String(a.category_id), box: [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]] as Box })),
  }));
  return { names: coco.categories.map((c) => c.name), items };
}

/** Folders: dir/<class or HS code>/<image>. */
export async function readFolders(dir: string): Promise<ClsItem[]> {
  const items: ClsItem[] = [];
  for (const d of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    for (const f of (await readdir(join(dir, d.name))).sort()) if (IMAGE_EXT.has(extname(f).toLowerCase())) items.push({ image: join(dir, d.name, f), label: d.name });
  }
  return items;
}
