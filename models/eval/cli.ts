// `npm run eval -- --model <card.json|onnx> --data <dir> --format yolo|coco|folders [--map names.json]
// [--out report.json] [--plot pr.png]`: per-class precision/recall, AP@0.5, mAP, confusion matrix,
// threshold table, JSON report and a PR-curve PNG.
// `npm run eval -- --knn --data <folder filed by HS code> [--mixed <folder of two-kind long loads>]
// [--model <embed card>] [--out knn-report.json]`: leave-one-out reference matching by references per code,
// with the tiles of long scans (models/eval/knn.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { evaluate, type DataFormat } from './evaluate.js';
import { prPng } from './plot.js';
import { evaluateKnn } from './knn.js';

async function knnMain(): Promise<void> {
  const { values } = parseArgs({ options: { knn: { type: 'boolean' }, model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, trials: { type: 'string' }, threads: { type: 'string' }, mixed: { type: 'string' } } });
  if (!values.data) throw new Error('usage: eval --knn --data <folder filed by HS code> [--mixed <folder: HS+HS/image>] [--model <embed card.json>] [--out knn-report.json] [--trials 3]');
  const rep = await evaluateKnn({ dataDir: values.data, ...(values.mixed && { mixedDir: values.mixed }), ...(values.model && { modelPath: values.model }), ...(values.trials && { trials: Number(values.trials) }), ...(values.threads && { threads: Number(values.threads) }) });
  const out = values.out ?? 'knn-report.json';
  await writeFile(out, JSON.stringify(rep, null, 2) + '\n');
  const d = rep.data;
  process.stdout.write(`${rep.model.name} ${rep.model.version}: ${d.images} images (${d.long} long), ${d.codes} HS codes${d.mixed !== undefined ? `, ${d.mixed} two-kind long loads` : ''}, ${rep.embedMsPerImage} ms/image to embed\nreport ${out}\n`);
  // tile columns only when something was tiled (long container scans, or two-kind long loads)
  const tiled = d.long > 0 || (d.mixed ?? 0) > 0;
  process.stdout.write(`refs/code  queries  1-NN top-1  kNN top-1  honest matched  honest flagged  swapped flagged${tiled ? '  long  tile-flagged  mixed q  caught  by a part  by the whole' : ''}\n`);
  for (const r of rep.rows) {
    process.stdout.write(
      `${String(r.refsPerCode).padStart(9)}  ${String(r.queries).padStart(7)}  ${r.nearestTop1.toFixed(3).padStart(10)}  ${r.knnTop1.toFixed(3).padStart(9)}  ${r.honestMatched.toFixed(3).padStart(14)}  ${r.honestFlagged.toFixed(3).padStart(14)}  ${r.swappedFlagged.toFixed(3).padStart(15)}` +
        (tiled ? `  ${String(r.honestLong).padStart(4)}  ${r.honestTileFlagged.toFixed(3).padStart(12)}  ${String(r.mixedQueries).padStart(7)}  ${r.mixedCaught.toFixed(3).padStart(6)}  ${r.mixedPartCaught.toFixed(3).padStart(9)}  ${r.mixedWholeCaught.toFixed(3).padStart(12)}` : '') + '\n',
    );
  }
  // which codes make the errors, with every reference in the library (the last row)
  const last = rep.rows.at(-1);
  if (last) {
    const top = (ps: ReadonlyArray<{ code: string; other: string; n: number }>) => (ps.length ? ps.slice(0, 8).map((p) => `${p.code}→${p.other} ${p.n}`).join(', ') : 'none');
    process.stdout.write(`at ${last.refsPerCode} refs/code, honest flagged as (true→looks like): ${top(last.confusions.honestFlagged)}\n`);
    process.stdout.write(`at ${last.refsPerCode} refs/code, swaps missed (true→declared): ${top(last.confusions.missedSwaps)}\n`);
  }
  process.stdout.write('otherMargin (whole scan): honest flagged / swapped flagged, at 5 refs/code and at all\n');
  for (const s of rep.marginSweep) {
    process.stdout.write(`  ${s.otherMargin.toFixed(2)}  ${s.rows.map((r) => `${r.honestFlagged.toFixed(3)} / ${r.swappedFlagged.toFixed(3)}`).join('   ')}\n`);
  }
  if (!tiled) return;
  process.stdout.write('tile thresholds (similarity, margin): honest long tile-flagged / undeclared part caught, at 5 refs/code and at all\n');
  for (const s of rep.tileSweep) {
    process.stdout.write(`  ${s.tileSimilarity.toFixed(2)} ${s.tileMargin.toFixed(2)}  ${s.rows.map((r) => `${r.honestTileFlagged.toFixed(3)} / ${r.mixedCaught.toFixed(3)}`).join('   ')}\n`);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--knn')) return knnMain();
  const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, format: { type: 'string' }, map: { type: 'string' }, out: { type: 'string' }, plot: { type: 'string' }, threads: { type: 'string' } } });
  const format = values.format as DataFormat;
  if (!values.model || !values.data || !['yolo', 'coco', 'folders'].includes(format)) {
    throw new Error('usage: eval --model <card.json|onnx> --data <dir> --format yolo|coco|folders [--map names.json] [--out report.json] [--plot pr.png]');
  }
  const names = values.map ? (JSON.parse(await readFile(values.map, 'utf8')) as Record<string, string>) : undefined;
  const rep = await evaluate({ modelPath: values.model, dataDir: values.data, format, ...(names ? { names } : {}), ...(values.threads ? { threads: Number(values.threads) } : {}) });
  const { curves, ...report } = rep;
  const out = values.out ?? 'eval-report.json';
  await writeFile(out, JSON.stringify(report, null, 2) + '\n');
  const plot = values.plot ?? out.replace(/\.json$/, '') + '.png';
  const ap = Object.fromEntries(Object.entries(report.perClass).map(([l, m]) => [l, 'ap50' in m ? m.ap50 : m.ap]));
  await writeFile(plot, await prPng(`${report.model.name} ${report.model.version} on ${values.data}`, curves, ap));
  const head = 'top1Accuracy' in report ? `top-1 ${report.top1Accuracy?.toFixed(4)} mAP ${report.mAP?.toFixed(4)}` : `mAP@0.5 ${report.mAP50?.toFixed(4)}`;
  process.stdout.write(`${report.model.name}: ${report.images} images, ${head}\nreport ${out}\nplot ${plot}\n`);
  for (const [l, m] of Object.entries(report.perClass)) {
    const apv = 'ap50' in m ? m.ap50 : m.ap;
    process.stdout.write(`  ${l.padEnd(24)} n=${String(m.support).padStart(5)}  P=${m.precision?.toFixed(3) ?? ' n/a '}  R=${m.recall?.toFixed(3) ?? ' n/a '}  AP=${apv?.toFixed(3) ?? 'n/a'}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
