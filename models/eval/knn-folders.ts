// Files a synthetic dataset (`npm run synth` output) by HS code for `npm run eval -- --knn`: every
// single-kind loaded scan goes to <out>/<HS code of its kind>/<id>.png (mixed loads and empty boxes have
// no one code and are left out). `--half even|odd` keeps every other scan of each code (in id order), so
// thresholds can be calibrated on one half and measured on the other. `--mixed <folder>` also files the
// generator's own two-kind loads of a long (40 ft, tiled) rendering as <folder>/<front code>+<back code>/<id>.png
// (kinds are loaded front to back; `--half` keeps every other one), for the eval's `--mixed`. Tiles need the
// rendering at its own size: make the dataset without `--input` (a letterboxed 384×128 image is 3:1 whatever
// the box, so a 20 ft scan would be tiled too). Parcel datasets work the same way: a parcel holding one kind of
// everyday goods (any number of them) is filed under that item's HS code; parcels of several kinds or with a
// prohibited item are left out. A parcel embedder reads its own input size, so `--input 128x128` is fine there.
// npx tsx models/eval/knn-folders.ts --data models/training/out/parcel-emb-val --out models/training/out/knn-parcel-cal --half even
// npm run synth -- --kind container --mmpp 24 --threat-rate 0.3 --seed 9000 --count 1500 --no-raw --out models/training/out/cls-val-native
// npx tsx models/eval/knn-folders.ts --data models/training/out/cls-val-native --out models/training/out/knn-cal --mixed models/training/out/knn-cal-mixed --half even
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { embeddingTiles } from '../runtime/tiles.js';
import { HS_FOR_CATEGORY, HS_FOR_PARCEL_ITEM } from '../synth/declarations.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, half: { type: 'string' }, mixed: { type: 'string' } } });
if (!values.data || !values.out) throw new Error('usage: knn-folders.ts --data <synth dataset> --out <folder> [--mixed <folder>] [--half even|odd]');
const dataset = JSON.parse(await readFile(join(values.data, 'dataset.json'), 'utf8').catch(() => '{}')) as { input?: string | null };
if (values.mixed && dataset.input) throw new Error(`${values.data} is letterboxed to ${dataset.input}: tiles need renderings at their own size (synth without --input)`);
const keep = (k: number): boolean => !((values.half === 'even' && k % 2 !== 0) || (values.half === 'odd' && k % 2 !== 1));
let n = 0;
let nMixed = 0;
let kMixed = 0;
const seen = new Map<string, number>();
for (const f of (await readdir(join(values.data, 'meta'))).sort()) {
  const meta = JSON.parse(await readFile(join(values.data, 'meta', f), 'utf8')) as { id: string; width: number; height: number; categories?: string[]; counts?: Record<string, number> };
  const kinds = meta.counts ? Object.keys(meta.counts).filter((k) => (meta.counts?.[k] ?? 0) > 0) : undefined;
  const cats = meta.categories ?? [];
  const src = join(values.data, 'images', `${meta.id}.png`);
  if (values.mixed && cats.length === 2 && embeddingTiles(meta.width, meta.height).length > 0) {
    const codes = cats.map((c) => HS_FOR_CATEGORY[c]?.hsCode);
    if (!codes[0] || !codes[1] || codes[0] === codes[1] || !keep(kMixed++)) continue;
    await mkdir(join(values.mixed, codes.join('+')), { recursive: true });
    await copyFile(src, join(values.mixed, codes.join('+'), `${meta.id}.png`));
    nMixed++;
    continue;
  }
  const hs = kinds ? (kinds.length === 1 ? HS_FOR_PARCEL_ITEM[kinds[0]!]?.hsCode : undefined) : cats.length === 1 ? HS_FOR_CATEGORY[cats[0]!]?.hsCode : undefined;
  if (!hs) continue;
  const k = seen.get(hs) ?? 0;
  seen.set(hs, k + 1);
  if (!keep(k)) continue;
  await mkdir(join(values.out, hs), { recursive: true });
  await copyFile(src, join(values.out, hs, `${meta.id}.png`));
  n++;
}
process.stdout.write(`${n} single-kind scans filed by HS code under ${values.out}${values.mixed ? `; ${nMixed} two-kind long loads under ${values.mixed}` : ''}\n`);
