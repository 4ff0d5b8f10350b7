// Cross-check of a committed model on a synthetic set through the TypeScript runtime (ONNX + our
// preprocessing), independent of the Python figures: classifier top-1 / exact-set, detector count accuracy
// and false alarms per clean scan at the card's thresholds.
// `npx tsx models/eval/synth-check.ts --model models/registry/<name>.card.json --data <synth dir> [--limit N]`
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { postprocess, prepare } from '../runtime/index.js';
import { loadModel } from '../runtime/registry.js';
import { SessionPool } from '../runtime/session.js';
import { readRendering } from './evaluate.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, limit: { type: 'string' }, odd: { type: 'boolean', default: false } } });
if (!values.model || !values.data) throw new Error('usage: synth-check --model card.json --data dir [--limit N] [--odd]');
const { card, bytes } = await loadModel(values.model);
const pool = await SessionPool.create(bytes, { intraOpNumThreads: 2, poolSize: 1 });
let ids = (await readdir(join(values.data, 'meta'))).filter((f) => f.endsWith('.json')).sort().map((f) => f.slice(0, -5));
if (values.odd) ids = ids.filter((_, i) => i % 2 === 1); // the detectors' reporting half
if (values.limit) ids = ids.slice(0, Number(values.limit));
const [, c, h, w] = card.input.shape as [unknown, number, number, number];
let top1 = 0, exact = 0, countOk = 0, clean = 0, cleanAlarms = 0;
const t0 = performance.now();
for (const id of ids) {
  const meta = JSON.parse(await readFile(join(values.data, 'meta', `${id}.json`), 'utf8')) as { categories?: string[]; boxes: Array<{ label: string }> };
  const r = await readRendering(join(values.data, 'images', `${id}.png`), c === 1 ? 1 : 3);
  const p = prepare(card, r);
  const raw = await pool.run('images', p.tensor, [1, c, h, w], card.output.name);
  const o = postprocess(card, raw.data, raw.dims, 0, p);
  if (o.scores) {
    const truth = new Set(meta.categories ?? []);
    const best = Object.entries(o.scores).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    if (truth.has(best)) top1++;
    const predicted = Object.entries(o.scores).filter(([l, s]) => s >= (card.thresholds[l] ?? 0.5)).map(([l]) => l);
    if (predicted.length === truth.size && predicted.every((l) => truth.has(l))) exact++;
  } else {
    const count = (labels: string[]) => JSON.stringify(Object.entries(labels.reduce<Record<string, number>>((m, l) => ({ ...m, [l]: (m[l] ?? 0) + 1 }), {})).sort());
    const dets = o.detections ?? [];
    if (count(dets.map((d) => d.label)) === count(meta.boxes.map((b) => b.label))) countOk++;
    if (meta.boxes.length === 0) { clean++; cleanAlarms += dets.length; }
  }
}
const n = ids.length;
const ms = (performance.now() - t0) / n;
process.stdout.write(JSON.stringify(card.task === 'classify' ? { model: card.name, n, top1: top1 / n, exactSet: exact / n, msPerImage: ms } : { model: card.name, n, countExact: countOk / n, cleanScans: clean, falseAlarmsPerCleanScan: clean ? cleanAlarms / clean : null, msPerImage: ms }) + '\n');
await pool.close();
