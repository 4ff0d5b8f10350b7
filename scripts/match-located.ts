// `npx tsx scripts/match-located.ts --data <threat-rich labelled stream dir> --registry <dir with the new verifier>
// [--old-registry models/registry] [--policy domain/policy/default-policy.json] [--model container-threat-verify-de]
// [--seed 7] [--margin 0.5] [--read raw|renderings] [--version V] [--out policy.json]`:
// per-class thresholds for a new version of a verifier that keep the planted items its predecessor located
// (domain/policy/threat-classes.ts `locatedMatchedThresholds`): both versions are studied on the same threat-rich
// stream (the old one under the policy, the new one across a table of thresholds 0.05–0.99), and each class gets the
// highest threshold at which the new version locates as many items of that class as the old one did (or as many as
// it can), × margin, never under the new card's own threshold. Prints each class and writes the policy with that
// model's thresholds replaced. Policy 2026.12.13 was made this way for container-threat-verify-de 2.2.0.
// scripts/match-budget.ts matches the false-alarm budget on clean scans instead.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { locatedMatchedThresholds, studyThreatClasses, withModelThresholds } from '../domain/policy/threat-classes.js';
import { loadRegistry } from '../models/runtime/registry.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES } from './calibrate.js';

const TABLE = Array.from({ length: 95 }, (_, i) => Math.round((0.05 + i * 0.01) * 100) / 100);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' }, registry: { type: 'string' }, 'old-registry': { type: 'string', default: 'models/registry' }, policy: { type: 'string' },
      model: { type: 'string', default: 'container-threat-verify-de' }, seed: { type: 'string', default: '7' }, margin: { type: 'string', default: '0.5' },
      read: { type: 'string', default: 'raw' }, version: { type: 'string' }, out: { type: 'string', default: 'located-policy.json' },
    },
  });
  const usage = 'usage: match-located --data <threat-rich stream dir> --registry <dir> [--old-registry dir] [--policy file] [--model name] [--seed 7] [--margin 0.5] [--read raw|renderings] [--version V] [--out file]';
  if (!values.data || !values.registry) throw new Error(usage);
  if (values.read !== 'raw' && values.read !== 'renderings') throw new Error(`--read: raw or renderings. ${usage}`);
  const margin = Number(values.margin);
  const model = values.model!;
  const policy = await loadPolicy(values.policy);
  const card = (await loadRegistry(values.registry)).find((m) => m.card.name === model)?.card;
  if (!card) throw new Error(`${values.registry} has no model ${model}`);
  const opts = { ...STREAM_RATES, seed: Number(values.seed), material: values.read === 'raw' };
  const old = studyThreatClasses(await loadStream(values.data, { ...opts, registryDir: values['old-registry']! }), policy, { table: TABLE });
  const neu = studyThreatClasses(await loadStream(values.data, { ...opts, registryDir: values.registry }), policy, { table: TABLE });
  const matched = locatedMatchedThresholds(old, neu, model, card.thresholds, margin);
  if (Object.keys(matched).length === 0) throw new Error(`${model} locates no planted item of ${values.data}`);
  const thresholds: Record<string, number> = {};
  for (const [label, m] of Object.entries(matched).sort()) {
    thresholds[label] = m.threshold;
    console.log(`${model} ${label.padEnd(20)} old located ${m.oldLocated}, new keeps ${m.target} → ${m.threshold.toFixed(4)} (card ${(card.thresholds[label] ?? 0).toFixed(4)})`);
  }
  const out = withModelThresholds(policy, model, thresholds, values.version ?? `${policy.version}-located`);
  await writeFile(values.out!, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${values.out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
