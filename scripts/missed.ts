// `npx tsx scripts/missed.ts --data <labelled stream dir> [--seed 5] [--registry models/registry] [--policy file]
// [--read raw|renderings]`: the problem scans a policy clears (planted prohibited items and misdeclarations let
// through), each with what was planted (label, box, and for containers the item's and its clutter's areal mass,
// meta/<id>.json `visibility`), every model box that overlaps it, and the classifier's scores: what the next model
// round has to learn. Seeds as scripts/policy-on-stream.ts (5 fit, 6 hold-out, 7 threat-rich, 8 second hold-out).
import { parseArgs } from 'node:util';
import { assess } from '../domain/assessment/assess.js';
import { round } from '../domain/assessment/evidence.js';
import type { RiskPolicy } from '../domain/policy/policy.js';
import { overlap } from '../domain/policy/threat-classes.js';
import { loadPolicy } from '../pipeline/policy.js';
import { buildText, loadStream, scanFacts, STREAM_RATES, type Meta, type ScanFacts, type StreamScan } from './calibrate.js';

type Planted = Meta['boxes'][number];

export interface Missed extends ScanFacts {
  scanId: string;
  /** `prohibited`, or the kind of misdeclaration (`misdeclared` where the set does not name it). */
  problem: string;
  /** Prohibited scans: each planted item with its areal masses and the model boxes that overlap it. */
  planted: Array<Planted & { modelBoxes: Array<{ model: string; label: string; score: number }> }>;
}

/** The problem scans of a labelled stream that `policy` clears, with what the stream's meta files say was planted. */
export function missedProblems(stream: readonly StreamScan[], policy: RiskPolicy): Missed[] {
  const out: Missed[] = [];
  for (const s of stream) {
    if ((!s.truth.prohibited && !s.truth.misdeclared) || assess(s.input, policy).decision !== 'clear') continue;
    out.push({
      scanId: s.input.scanId,
      problem: s.truth.prohibited ? 'prohibited' : (s.truth.misdeclaration ?? 'misdeclared'),
      ...scanFacts(s),
      planted: (s.truth.prohibited ? s.meta.boxes : []).map((p) => ({
        ...p,
        modelBoxes: p.box ? s.input.modelOutputs.flatMap((o) => (o.detections ?? []).filter((d) => overlap(d.box, p.box!) > 0).map((d) => ({ model: o.model, label: d.label, score: round(d.score, 2) }))) : [],
      })),
    });
  }
  return out;
}

function print(m: Missed): void {
  console.log(`${m.scanId}: ${m.problem}; drawn ${JSON.stringify(m.drawn)}${buildText(m.build)}; declared ${JSON.stringify(m.declared)}`);
  for (const p of m.planted) {
    const v = p.visibility ? ` item ${round(p.visibility.itemGcm2, 2)} g/cm² in clutter ${round(p.visibility.clutterGcm2, 2)} g/cm²` : '';
    console.log(`  planted ${p.label}${p.box ? ` at ${JSON.stringify(p.box.map(Math.round))}` : ''}${v}`);
    console.log(`    model boxes over it: ${p.modelBoxes.length > 0 ? p.modelBoxes.map((b) => `${b.model} ${b.label} ${b.score}`).join('; ') : 'none'}`);
  }
  console.log(`  classifier ${JSON.stringify(m.classifier)}`);
}

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
  const missed = missedProblems(stream, policy);
  missed.forEach(print);
  console.log(`${missed.length} problem scans cleared`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
