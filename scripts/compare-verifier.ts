// `npx tsx scripts/compare-verifier.ts --fit <fit stream dir> --threat-rich <dir>[,<dir>…] --old-registry <dir>
// [--registry models/registry] [--policy file] [--read raw|renderings] [--model name] [--json out.json]`:
// the standing comparison of a new verifier version with the one it would replace, in one command (until
// 2026-12-05 it took match-budget.ts, policy-on-stream.ts and a throwaway script per round). First the new
// version gets, class by class, the old version's false-alarm budget on the fit stream's clean scans
// (scripts/match-budget.ts: never under the new card's own threshold), and the old version its own lowest
// threshold for that budget (a policy's threshold may sit above the next clean score down: without this the new
// side would gain from that slack alone; a version compared with itself ties). Then, at those thresholds, every
// threat-rich stream is read through both registries: the prohibited scans each catches (not cleared) and the
// planted items of each class its verifier locates (a box of the item's own class over it,
// domain/policy/threat-classes.ts), per stream and pooled. Pooled over several streams, a comparison is not
// decided by one item at the edge of a threshold, as 2026-12-05's grey 2.1.0 was by one firearm on one stream.
// The rule (`standingRule`): the new version catches at least as many prohibited scans and locates at least as
// many firearms and as many knives, and does better on one of the two. It prints both sides, the fit stream's
// auto-clear of clean scans with each, and the rule's outcome; the exit code is 0 either way (a rule to register
// before a round is run is the round's own; this is the one the rounds since 2026-12-05 use).
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { percent, streamMetrics, type LabelledScan } from '../domain/policy/calibrate.js';
import type { RiskPolicy } from '../domain/policy/policy.js';
import { studyThreatClasses, withModelThresholds } from '../domain/policy/threat-classes.js';
import { loadRegistry } from '../models/runtime/registry.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES } from './calibrate.js';
import { budgetThresholds } from './match-budget.js';

/** One side of a comparison on a threat-rich stream (or several, pooled). */
export interface ThreatRichSide {
  /** Scans with a planted prohibited item, and those the policy did not clear. */
  prohibited: number;
  caught: number;
  /** Per class: planted items, and those a box of `model` of their own class locates at the policy's threshold. */
  planted: Record<string, number>;
  located: Record<string, number>;
}

/** What `policy` catches on a labelled threat-rich stream, and what verifier `model` locates there. */
export function threatRichSide(stream: readonly LabelledScan[], policy: RiskPolicy, model: string): ThreatRichSide {
  const m = streamMetrics(stream, policy);
  const side: ThreatRichSide = { prohibited: m.prohibited, caught: Math.round(m.prohibitedRecall * m.prohibited) || 0, planted: {}, located: {} };
  for (const c of studyThreatClasses(stream, policy)) {
    if (c.model !== model) continue;
    side.planted[c.label] = c.positives;
    side.located[c.label] = c.atCurrent.located;
  }
  return side;
}

/** Sides of several streams added up. */
export function pooled(sides: readonly ThreatRichSide[]): ThreatRichSide {
  const out: ThreatRichSide = { prohibited: 0, caught: 0, planted: {}, located: {} };
  for (const s of sides) {
    out.prohibited += s.prohibited;
    out.caught += s.caught;
    for (const [k, v] of Object.entries(s.planted)) out.planted[k] = (out.planted[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.located)) out.located[k] = (out.located[k] ?? 0) + v;
  }
  return out;
}

export interface RuleOutcome {
  pass: boolean;
  /** Each condition, as a sentence with both figures. */
  conditions: Array<{ pass: boolean; says: string }>;
}

/**
 * The standing rule: no fewer prohibited scans caught, no fewer items of each `kept` class located, and more of
 * one of the two (scans caught, or items of the `kept` classes located together).
 */
export function standingRule(old: ThreatRichSide, neu: ThreatRichSide, kept: readonly string[] = ['firearm', 'knife']): RuleOutcome {
  const conditions: RuleOutcome['conditions'] = [];
  conditions.push({ pass: neu.caught >= old.caught, says: `prohibited scans caught ${neu.caught} of ${neu.prohibited} (old ${old.caught} of ${old.prohibited}): no fewer` });
  for (const k of kept) {
    const o = old.located[k] ?? 0, n = neu.located[k] ?? 0;
    conditions.push({ pass: n >= o, says: `${k} located ${n} of ${neu.planted[k] ?? 0} (old ${o}): no fewer` });
  }
  const sum = (s: ThreatRichSide) => kept.reduce((a, k) => a + (s.located[k] ?? 0), 0);
  conditions.push({ pass: neu.caught > old.caught || sum(neu) > sum(old), says: `more caught (${neu.caught} vs ${old.caught}) or more ${kept.join(' and ')} located (${sum(neu)} vs ${sum(old)})` });
  return { pass: conditions.every((c) => c.pass), conditions };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fit: { type: 'string' }, 'threat-rich': { type: 'string' }, 'old-registry': { type: 'string' }, registry: { type: 'string', default: 'models/registry' },
      policy: { type: 'string' }, read: { type: 'string', default: 'raw' }, model: { type: 'string' }, json: { type: 'string' },
    },
  });
  const usage = 'usage: compare-verifier --fit <dir> --threat-rich <dir>[,<dir>…] --old-registry <dir> [--registry dir] [--policy file] [--read raw|renderings] [--model name] [--json file]';
  if (!values.fit || !values['threat-rich'] || !values['old-registry']) throw new Error(usage);
  if (values.read !== 'raw' && values.read !== 'renderings') throw new Error(`--read: raw or renderings. ${usage}`);
  const material = values.read === 'raw';
  // raw pairs are confirmed by the dual-energy verifier, renderings only by the grey one (models/runtime/verify.ts)
  const model = values.model ?? (material ? 'container-threat-verify-de' : 'container-threat-verify');
  const policy = await loadPolicy(values.policy);
  const cards = new Map((await loadRegistry(values.registry!)).map((m) => [m.card.name, m.card]));
  const card = cards.get(model);
  const oldCard = (await loadRegistry(values['old-registry'])).find((m) => m.card.name === model)?.card;
  if (!card || !oldCard) throw new Error(`${card ? values['old-registry'] : values.registry} has no model ${model}`);
  const read = (dir: string, registryDir: string, seed: number) => loadStream(dir, { ...STREAM_RATES, seed, material, registryDir });
  // the fit stream (assessment seed 5, as the benchmark): the new version at the old one's budget
  const fitOld = await read(values.fit, values['old-registry'], 5);
  const fitNew = await read(values.fit, values.registry!, 5);
  const budget = budgetThresholds(fitOld, fitNew, policy, cards, model, new Map([[model, oldCard]]))[model] ?? {};
  if (Object.keys(budget).length === 0) throw new Error(`${model} confirmed no box on ${values.fit}, or the policy has no thresholds for it`);
  const at = (pick: (b: (typeof budget)[string]) => number) => Object.fromEntries(Object.entries(budget).map(([label, b]) => [label, pick(b)]));
  const baseline = withModelThresholds(policy, model, at((b) => b.oldTight), `${policy.version}+${model}-${oldCard.version}`);
  const candidate = withModelThresholds(policy, model, at((b) => b.threshold), `${policy.version}+${model}-${card.version}`);
  for (const [label, b] of Object.entries(budget)) {
    console.log(`${model} ${label.padEnd(20)} policy ${b.old.toFixed(4)} flags ${b.budget} of ${b.cleanScans} clean | old ${b.oldTight.toFixed(4)} | new ${b.threshold.toFixed(4)} flags ${b.flagged}`);
  }
  const fit = { old: percent(streamMetrics(fitOld, baseline).autoClearOfClean), new: percent(streamMetrics(fitNew, candidate).autoClearOfClean) };
  console.log(`fit stream, auto-clear of clean scans: old ${fit.old} %, new ${fit.new} %`);
  const streams = [];
  // threat-rich streams: assessment seed 7 for each (the declarations drawn over them, as the benchmark's study stream)
  for (const dir of values['threat-rich'].split(',')) {
    const old = threatRichSide(await read(dir, values['old-registry'], 7), baseline, model);
    const neu = threatRichSide(await read(dir, values.registry!, 7), candidate, model);
    streams.push({ dir, old, new: neu });
    console.log(`${dir}: caught ${old.caught} -> ${neu.caught} of ${neu.prohibited}; located ${Object.keys(neu.planted).sort().map((k) => `${k} ${old.located[k] ?? 0} -> ${neu.located[k] ?? 0}/${neu.planted[k]}`).join(', ')}`);
  }
  const all = { old: pooled(streams.map((s) => s.old)), new: pooled(streams.map((s) => s.new)) };
  const rule = standingRule(all.old, all.new);
  for (const c of rule.conditions) console.log(`  ${c.pass ? 'yes' : 'NO '} ${c.says}`);
  console.log(`standing rule (pooled over ${streams.length} threat-rich stream${streams.length > 1 ? 's' : ''}): ${rule.pass ? 'passed' : 'not passed'}`);
  if (values.json) {
    await writeFile(values.json, JSON.stringify({ read: values.read, model, policy: { old: baseline.version, new: candidate.version }, version: { old: oldCard.version, new: card.version }, thresholds: budget, fitAutoClearOfCleanPct: fit, threatRich: streams, pooled: all, rule }, null, 1) + '\n');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
