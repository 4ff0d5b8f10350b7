// `npx tsx scripts/why-not-cleared.ts --data <labelled stream dir> [--seed 5] [--registry models/registry]
// [--policy file] [--codes MANIFEST_EMPTY_MISMATCH,DECLARED_NOT_SEEN] [--read raw|renderings] [--limit N]`:
// the clean scans of a labelled stream that the policy did not clear, one block each: every non-clearing reason
// with its sentence, what the generator drew (meta/<id>.json categories, and a container's length and whether it is a
// reefer), what was declared and the cargo
// classifier's scores. How the 1.0.0 generator's `vehicles` labels on car-less containers were found. With
// --codes only scans carrying one of those reason codes are listed. Model outputs come from loadStream's cache
// beside the stream (scripts/policy-on-stream.ts), so a cached stream answers in seconds.
import { parseArgs } from 'node:util';
import { assess } from '../domain/assessment/assess.js';
import type { RiskPolicy } from '../domain/policy/policy.js';
import type { Reason } from '../domain/verdict.js';
import { loadPolicy } from '../pipeline/policy.js';
import { buildText, loadStream, scanFacts, STREAM_RATES, type ScanFacts, type StreamScan } from './calibrate.js';

export interface NotCleared extends ScanFacts {
  scanId: string;
  /** Every reason whose decision is not `clear`, with its sentence. */
  reasons: Array<Pick<Reason, 'code' | 'detail'>>;
  dishonest: boolean;
}

/** The clean scans of a labelled stream that `policy` does not clear (only those with one of `codes`, when given). */
export function notCleared(stream: readonly StreamScan[], policy: RiskPolicy, codes?: ReadonlySet<string>): NotCleared[] {
  const out: NotCleared[] = [];
  for (const s of stream) {
    if (s.truth.prohibited || s.truth.misdeclared) continue;
    const reasons = assess(s.input, policy).reasons.filter((r) => r.decision !== 'clear');
    if (reasons.length === 0 || (codes && !reasons.some((r) => codes.has(r.code)))) continue;
    out.push({
      scanId: s.input.scanId,
      reasons: reasons.map((r) => ({ code: r.code, detail: r.detail })),
      dishonest: s.truth.dishonest === true,
      ...scanFacts(s),
    });
  }
  return out;
}

function print(n: NotCleared): void {
  console.log(n.scanId);
  for (const r of n.reasons) console.log(`  ${r.code}: ${r.detail}`);
  console.log(`  drawn ${JSON.stringify(n.drawn)}${buildText(n.build)}${n.dishonest ? ' (dishonest shipper)' : ''}; declared ${JSON.stringify(n.declared)}; classifier ${JSON.stringify(n.classifier)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' }, seed: { type: 'string', default: '5' }, registry: { type: 'string', default: 'models/registry' }, policy: { type: 'string' },
      codes: { type: 'string' }, read: { type: 'string', default: 'raw' }, limit: { type: 'string' },
    },
  });
  if (!values.data) throw new Error('usage: why-not-cleared --data <stream dir> [--seed 5] [--registry dir] [--policy file] [--codes A,B] [--read raw|renderings] [--limit N]');
  if (values.read !== 'raw' && values.read !== 'renderings') throw new Error('--read: raw or renderings');
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new Error('--limit: a positive number');
  const codes = values.codes ? new Set(values.codes.split(',')) : undefined;
  const policy = await loadPolicy(values.policy);
  const stream = await loadStream(values.data, { registryDir: values.registry!, ...STREAM_RATES, seed: Number(values.seed), material: values.read === 'raw' });
  const listed = notCleared(stream, policy, codes).slice(0, limit);
  listed.forEach(print);
  console.log(`${listed.length} clean scans not cleared${codes ? ` with ${[...codes].join(' or ')}` : ''}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
