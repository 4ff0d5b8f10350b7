// Files a synthetic dataset (`npm run synth` output) by HS code for `npm run eval -- --knn`: every
// single-kind loaded scan goes to <out>/<HS code of its kind>/<id>.png (mixed loads and empty boxes have
// no one code and are left out). `--half even|odd` keeps every other scan of each code (in id order), so
// thresholds can be calibrated on one half and measured on the other.
// npx tsx models/eval/knn-folders.ts --data models/training/out/cls-val --out models/training/out/knn-cal --half even
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HS_FOR_CATEGORY } from '../synth/declarations.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, half: { type: 'string' } } });
if (!values.data || !values.out) throw new Error('usage: knn-folders.ts --data <synth dataset> --out <folder>');
let n = 0;
const seen = new Map<string, number>();
for (const f of (await readdir(join(values.data, 'meta'))).sort()) {
  const meta = JSON.parse(await readFile(join(values.data, 'meta', f), 'utf8')) as { id: string; categories?: string[] };
  const cats = meta.categories ?? [];
  const hs = cats.length === 1 ? HS_FOR_CATEGORY[cats[0]!]?.hsCode : undefined;
  if (!hs) continue;
  const k = seen.get(hs) ?? 0;
  seen.set(hs, k + 1);
  if ((values.half === 'even' && k % 2 !== 0) || (values.half === 'odd' && k % 2 !== 1)) continue;
  await mkdir(join(values.out, hs), { recursive: true });
  await copyFile(join(values.data, 'images', `${meta.id}.png`), join(values.out, hs, `${meta.id}.png`));
  n++;
}
process.stdout.write(`${n} single-kind scans filed by HS code under ${values.out}\n`);
