// `npx tsx scripts/missed.ts --data <labelled stream dir> [--seed 5] [--registry models/registry] [--policy file]
// [--read raw|renderings]`: the problem scans a policy clears (planted prohibited items and misdeclarations let
// through), each with what was planted (label, box, and for containers the item's and its clutter's areal mass,
// meta/<id>.json `visibility`), every model box that overlaps it, and the classifier's scores: what the next model
// round has to learn. Seeds as scripts/policy-on-stream.ts (5 fit, 6 hold-out, 7 threat-rich, 8 second hold-out).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assess } from '../domain/assessment/assess.js';
import type { Box } from '../domain/verdict.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES, type Meta } from './calibrate.js';

type Planted = { label: string; box: Box; visibility?: { itemGcm2: number; clutterGcm2: number } };

const overlaps = (a: Box, b: Box): boolean => Math.min(a[2], b[2]) > Math.max(a[0], b[0]) && Math.min(a[3], b[3]) > Math.max(a[1], b[1]);
const r2 = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' }, seed: { type: 'string', default: '5' }, registry: { type: 'string', default: 'models/registry' },
      policy: { type: 'string' }, read: { type: 'string', default: 'raw' },
    },
  });
  if (!values.data) throw new Error('usage: missed --data <stream dir> [--seed 5] [--registry dir] [--policy file] [--read raw|renderings]');
  if (values.read !== 'raw' && values.read !== 'renderings') throw new Error('--read: raw or renderings');
  const policy = await loadPolicy(values.policy);
  const stream = await loadStream(values.data, { registryDir: values.registry!, ...STREAM_RATES, seed: Number(values.seed), material: values.read === 'raw' });
  let missed = 0;
  for (const s of stream) {
    if ((!s.truth.prohibited && !s.truth.misdeclared) || assess(s.input, policy).decision !== 'clear') continue;
    missed++;
    const meta = JSON.parse(await readFile(join(values.data, 'meta', `${s.input.scanId}.json`), 'utf8')) as Meta & { boxes?: Planted[] };
    const build = meta.container ? ` in a ${meta.container.lengthFt} ft ${meta.container.reefer ? 'reefer' : 'dry box'}` : '';
    const what = s.truth.prohibited ? 'prohibited item' : `misdeclared (${s.truth.misdeclaration ?? 'kind not recorded'})`;
    console.log(`${s.input.scanId}: ${what}; drawn ${JSON.stringify(meta.categories ?? meta.counts)}${build}; declared ${JSON.stringify(s.input.declaration?.lines.map((l) => l.hsCode) ?? null)}`);
    for (const p of s.truth.prohibited ? (meta.boxes ?? []) : []) {
      const v = p.visibility ? ` item ${r2(p.visibility.itemGcm2)} g/cm² in clutter ${r2(p.visibility.clutterGcm2)} g/cm²` : '';
      console.log(`  planted ${p.label} at ${JSON.stringify(p.box.map(Math.round))}${v}`);
      const near = s.input.modelOutputs.flatMap((o) => (o.detections ?? []).filter((d) => overlaps(d.box, p.box)).map((d) => `${o.model} ${d.label} ${r2(d.score)}`));
      console.log(`    model boxes over it: ${near.length > 0 ? near.join('; ') : 'none'}`);
    }
    const scores = s.input.modelOutputs.find((o) => o.task === 'classify')?.scores ?? {};
    console.log(`  classifier ${JSON.stringify(Object.fromEntries(Object.entries(scores).filter(([, v]) => v >= 0.05).map(([k, v]) => [k, r2(v)])))}`);
  }
  console.log(`${missed} problem scans cleared`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
