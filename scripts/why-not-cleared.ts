// `npx tsx scripts/why-not-cleared.ts --data <labelled stream dir> [--seed 5] [--registry models/registry]
// [--policy file] [--codes MANIFEST_EMPTY_MISMATCH,DECLARED_NOT_SEEN] [--read raw|renderings] [--limit N]`:
// the clean scans of a labelled stream that the policy did not clear, one block each: every non-clearing reason
// with its sentence, what the generator drew (meta/<id>.json categories, and a container's length and whether it is a
// reefer), what was declared and the cargo
// classifier's scores. How the 1.0.0 generator's `vehicles` labels on car-less containers were found. With
// --codes only scans carrying one of those reason codes are listed. Model outputs come from loadStream's cache
// beside the stream (scripts/policy-on-stream.ts), so a cached stream answers in seconds.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assess } from '../domain/assessment/assess.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES, type Meta } from './calibrate.js';

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
  const codes = values.codes ? new Set(values.codes.split(',')) : null;
  const policy = await loadPolicy(values.policy);
  const stream = await loadStream(values.data, { registryDir: values.registry!, ...STREAM_RATES, seed: Number(values.seed), material: values.read === 'raw' });
  let shown = 0;
  for (const s of stream) {
    if (s.truth.prohibited || s.truth.misdeclared || shown >= limit) continue;
    const reasons = assess(s.input, policy).reasons.filter((r) => r.decision !== 'clear');
    if (reasons.length === 0 || (codes && !reasons.some((r) => codes.has(r.code)))) continue;
    shown++;
    const meta = JSON.parse(await readFile(join(values.data, 'meta', `${s.input.scanId}.json`), 'utf8')) as Meta;
    const scores = s.input.modelOutputs.find((o) => o.task === 'classify')?.scores ?? {};
    const seen = Object.fromEntries(Object.entries(scores).filter(([, v]) => v >= 0.05).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    console.log(s.input.scanId);
    for (const r of reasons) console.log(`  ${r.code}: ${r.detail}`);
    // streams written before 2026-12-05 do not record the container's build
    const build = meta.container ? ` in a ${meta.container.lengthFt} ft ${meta.container.reefer ? 'reefer' : 'dry box'}` : '';
    console.log(`  drawn ${JSON.stringify(meta.categories ?? meta.counts)}${build}${s.truth.dishonest ? ' (dishonest shipper)' : ''}; declared ${JSON.stringify(s.input.declaration?.lines.map((l) => l.hsCode) ?? null)}; classifier ${JSON.stringify(seen)}`);
  }
  console.log(`${shown} clean scans not cleared${codes ? ` with ${[...codes].join(' or ')}` : ''}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
