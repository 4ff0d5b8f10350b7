// `npx tsx scripts/policy-on-stream.ts --data <labelled stream dir> [--registry models/registry] [--policy file]
// [--seed 6] [--read raw,renderings] [--scale 1,1.25,1.5] [--old-outputs-raw F] [--old-outputs-renderings F]`:
// the assessment benchmark's figures for one policy on one labelled stream (auto-clear of clean scans, of the
// shippers the policy may clear, prohibited recall and share held, misdeclaration recall, false clears, and why
// clean scans were not cleared), without the rest of `npm run bench -- --only assessment`. The models' outputs come
// from loadStream's cache beside the stream when there is one (e.g. left by `TW_BENCH_STREAMS=<dir> npm run bench`),
// or from an earlier checkout's cached outputs (--old-outputs-*), so a policy or a runtime can be compared in minutes.
// Seeds as the benchmark: 5 for the fit stream, 6 for the hold-out, 7 for the threat-rich study stream.
import { parseArgs } from 'node:util';
import { metricsReport, streamMetrics, thresholdsOf, withThresholds, type LabelledScan } from '../domain/policy/calibrate.js';
import type { RiskPolicy } from '../domain/policy/policy.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES } from './calibrate.js';

/**
 * One report row per threat-threshold scale: `base` as it is at scale 1 (with why clean scans were not cleared),
 * every threat threshold × k otherwise (clamped to [0.01, 0.99], as `npm run calibrate` scales them).
 */
export function policyRows(stream: readonly LabelledScan[], base: RiskPolicy, scales: readonly number[], read: 'raw' | 'renderings') {
  return scales.map((k) => {
    const { cleanNotClearedBy, ...figures } = metricsReport(streamMetrics(stream, k === 1 ? base : withThresholds(base, thresholdsOf(base, k), `${base.version}×${k}`)));
    return { read, policy: base.version, threatScale: k, ...figures, ...(k === 1 && { cleanNotClearedBy }) };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' }, registry: { type: 'string', default: 'models/registry' }, policy: { type: 'string' }, seed: { type: 'string', default: '6' },
      read: { type: 'string', default: 'raw,renderings' }, scale: { type: 'string', default: '1' },
      'old-outputs-raw': { type: 'string' }, 'old-outputs-renderings': { type: 'string' },
    },
  });
  if (!values.data) throw new Error('usage: policy-on-stream --data <stream dir> [--registry dir] [--policy file] [--seed N] [--read raw,renderings] [--scale 1,1.25]');
  const reads = values.read!.split(',');
  if (reads.some((r) => r !== 'raw' && r !== 'renderings')) throw new Error('--read: raw and/or renderings');
  const scales = values.scale!.split(',').map(Number);
  if (scales.some((k) => !(k > 0))) throw new Error('--scale: positive numbers');
  const base = await loadPolicy(values.policy);
  for (const material of [true, false].filter((m) => reads.includes(m ? 'raw' : 'renderings'))) {
    const outputsFile = values[material ? 'old-outputs-raw' : 'old-outputs-renderings'];
    const stream = await loadStream(values.data, { registryDir: values.registry!, ...STREAM_RATES, seed: Number(values.seed), material, ...(outputsFile && { outputsFile }) });
    for (const row of policyRows(stream, base, scales, material ? 'raw' : 'renderings')) console.log(JSON.stringify(row));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
