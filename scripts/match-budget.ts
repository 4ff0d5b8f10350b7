// `npx tsx scripts/match-budget.ts --data <labelled stream dir> --old-registry <dir> [--registry models/registry]
// [--policy domain/policy/default-policy.json] [--read raw,renderings] [--old-outputs-raw F] [--old-outputs-renderings F]`:
// per-class thresholds for new verifier versions that keep the old versions' false-alarm budget, measured on the
// clean scans of a labelled synthetic stream. When the runtime itself changed (RUNTIME_REVISION), the old side is
// what the old runtime gave: --old-outputs-* name the stream outputs an earlier checkout cached (the
// `outputs.*.json` loadStream writes beside the stream) instead of running --old-registry now.
//
// models/training/match_thresholds.py matches budgets on verify-val's calibration half, 200 clean renderings: a
// class that flags 1 of them has a budget of one scan, and its threshold moves with that one scan. A stream of
// `npm run bench -- --only assessment` (the fit stream, seed 70001: 1,420 clean containers, disjoint from the
// hold-out) gives seven times the clean scans. For each verifier in the policy's `modelThreatThresholds` and each
// class: the budget is the number of clean scans (no planted threat) whose strongest box of that class from the
// old registry's verifier reaches the policy's threshold; the new threshold is the lowest at which the new
// registry's verifier flags no more of them, never under the score the new card emits that class from
// (models/runtime/registry.ts `emissionThreshold`: nothing under it reaches the policy). Raw pairs (material
// channel, dual-energy verifier) and renderings only (grey verifier) are read separately, as the pipeline does.
import { parseArgs } from 'node:util';
import { allDetections } from '../domain/assessment/evidence.js';
import type { LabelledScan } from '../domain/policy/calibrate.js';
import type { RiskPolicy } from '../domain/policy/policy.js';
import { strongestScore } from '../domain/policy/threat-classes.js';
import { emissionThreshold, loadRegistry } from '../models/runtime/registry.js';
import type { ModelCard } from '../models/runtime/types.js';
import { loadPolicy } from '../pipeline/policy.js';
import { loadStream, STREAM_RATES } from './calibrate.js';

/** Per scan with no planted threat, the strongest box of `label` confirmed by verifier `model` (0 when none). */
export function strongest(stream: readonly LabelledScan[], model: string, label: string): number[] {
  return stream.filter((s) => !s.truth.prohibited).map((s) => strongestScore(allDetections(s.input.modelOutputs), model, label));
}

/** The lowest threshold (≥ floor) at which at most `budget` of `scores` reach it. */
export function thresholdForBudget(scores: readonly number[], budget: number, floor = 0.05): number {
  const sorted = [...scores].sort((a, b) => b - a);
  if (budget >= sorted.length) return floor;
  // every score above the (budget+1)-th highest stays flagged; just over it, that one no longer is
  const cut = sorted[budget]!;
  return Math.max(floor, (Math.floor(cut * 10_000) + 1) / 10_000);
}

export interface BudgetThreshold {
  /** The policy's threshold now, and how many of the stream's clean scans the old verifier flags at it. */
  old: number;
  budget: number;
  cleanScans: number;
  /** The new verifier's threshold for that budget, the clean scans it flags there, and at the old threshold. */
  threshold: number;
  flagged: number;
  flaggedAtOld: number;
  /**
   * The old verifier's own lowest threshold for the same budget (≤ `old`: a policy's threshold may sit above the
   * next clean score down), never under the old card's emission threshold when `oldCards` names it. A comparison
   * puts both versions there, so neither gains from slack in the policy's threshold.
   */
  oldTight: number;
}

/**
 * Per verifier that confirmed boxes of `neu` (or only `only`) and per class of the policy's thresholds for it: the
 * lowest threshold at which the new registry's verifier flags no more of the stream's clean scans than the old one
 * does at the policy's threshold, never under the new card's emission threshold. `old` and `neu`: one stream read
 * through the old and the new registry.
 */
export function budgetThresholds(old: readonly LabelledScan[], neu: readonly LabelledScan[], policy: RiskPolicy, cards: ReadonlyMap<string, ModelCard>, only?: string, oldCards?: ReadonlyMap<string, ModelCard>): Record<string, Record<string, BudgetThreshold>> {
  const used = new Set(allDetections(neu.flatMap((s) => s.input.modelOutputs)).map((d) => d.verifiedBy).filter((m): m is string => !!m && (only === undefined || m === only)));
  const out: Record<string, Record<string, BudgetThreshold>> = {};
  for (const model of used) {
    const card = cards.get(model), oldCard = oldCards?.get(model);
    out[model] = {};
    for (const [label, t] of Object.entries(policy.security.modelThreatThresholds[model] ?? {})) {
      const o = strongest(old, model, label), n = strongest(neu, model, label);
      const budget = o.filter((v) => v >= t).length;
      const threshold = thresholdForBudget(n, budget, card ? emissionThreshold(card, label) : undefined);
      const oldTight = Math.min(t, thresholdForBudget(o, budget, oldCard ? emissionThreshold(oldCard, label) : 0));
      out[model]![label] = { old: t, budget, cleanScans: o.length, threshold, flagged: n.filter((v) => v >= threshold).length, flaggedAtOld: n.filter((v) => v >= t).length, oldTight };
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, 'old-registry': { type: 'string' }, registry: { type: 'string', default: 'models/registry' }, policy: { type: 'string' }, read: { type: 'string', default: 'raw,renderings' }, 'old-outputs-raw': { type: 'string' }, 'old-outputs-renderings': { type: 'string' } },
  });
  const usage = 'usage: match-budget --data <stream dir> --old-registry <dir> [--registry dir] [--policy file] [--read raw,renderings]';
  if (!values.data || !values['old-registry']) throw new Error(usage);
  // raw: the stream read as raw pairs (material channel, dual-energy verifier); renderings: as renderings only
  const reads = values.read!.split(',');
  if (reads.some((r) => r !== 'raw' && r !== 'renderings')) throw new Error(`--read: raw and/or renderings. ${usage}`);
  const policy = await loadPolicy(values.policy);
  const cards = new Map((await loadRegistry(values.registry!)).map((m) => [m.card.name, m.card]));
  const out: Record<string, Record<string, number>> = {};
  for (const material of [true, false].filter((m) => reads.includes(m ? 'raw' : 'renderings'))) {
    const opts = { ...STREAM_RATES, seed: 5, material };
    const oldOutputs = values[material ? 'old-outputs-raw' : 'old-outputs-renderings'];
    const old = await loadStream(values.data, { ...opts, registryDir: values['old-registry'], ...(oldOutputs && { outputsFile: oldOutputs }) });
    const neu = await loadStream(values.data, { ...opts, registryDir: values.registry! });
    for (const [model, classes] of Object.entries(budgetThresholds(old, neu, policy, cards))) {
      out[model] = {};
      for (const [label, b] of Object.entries(classes)) {
        out[model]![label] = b.threshold;
        console.log(`${model} ${label.padEnd(20)} old ${b.old.toFixed(4)} flags ${b.budget} of ${b.cleanScans} clean | new ${b.threshold.toFixed(4)} flags ${b.flagged} (at the old threshold ${b.flaggedAtOld})`);
      }
    }
  }
  console.log(JSON.stringify(out));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
