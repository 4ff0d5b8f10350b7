// `npm run calibrate -- --data <labelled set> [--holdout <labelled set>] --target-false-clear 0.005
// [--min-prohibited-recall 0.99] [--min-misdeclared-recall 0.95] [--recall-data <threat-rich set>
// [--min-recall-data-recall R]]`, or `--threat-classes [--margin 0.5]`:
// runs the registered models over a labelled set (synthetic from `npm run synth`, or real scans in the same
// layout: images/<id>.png renderings + meta/<id>.json with `boxes` and `categories`/`counts`), plants
// misdeclarations at a set rate, chooses thresholds that keep wrong releases under the target, and reports
// auto-clear rate, prohibited-item recall, misdeclaration recall and false-clear rate (on the hold-out set
// too, when given). With --recall-data, prohibited recall is checked on a threat-rich set as well (a stream at
// realistic rates holds too few threats to show 99 %): no thresholds that catch fewer there than the base
// policy (or than R). Writes the report and the calibrated policy. With --threat-classes it studies each threat
// class's threshold instead (domain/policy/threat-classes.ts: located recall and clean scans flagged per
// class; each threshold raised as far as keeps every planted item it locates now, times --margin) and writes
// the policy with those thresholds; run it on a threat-rich set (e.g. `npm run synth -- --threat-rate 0.6`).
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { CONTAINER_THREATS, PARCEL_PROHIBITED, PARCEL_RESTRICTED } from '../domain/categories.js';
import type { ModelEvidence } from '../domain/assessment/types.js';
import { round } from '../domain/assessment/evidence.js';
import type { CreditLevel } from '../domain/declaration/declaration.js';
import { validateDeclaration } from '../domain/declaration/validate-declaration.js';
import { calibrate, streamMetrics, type LabelledScan, type StreamMetrics } from '../domain/policy/calibrate.js';
import { raiseToModelFloors, thresholdsUnderModelFloors, type DetectionSource, type RiskPolicy, type ThresholdUnderFloor } from '../domain/policy/policy.js';
import { studyThreatClasses, withStudiedThresholds } from '../domain/policy/threat-classes.js';
import type { Modality } from '../domain/scan.js';
import { createModelRuntime, RUNTIME_REVISION } from '../models/runtime/index.js';
import { cardModalities, detectionSources, loadRegistry, readsDeep, readsMaterial } from '../models/runtime/registry.js';
import type { ModelCard } from '../models/runtime/types.js';
import { containerLines, misdeclareContainer, misdeclareParcel, parcelLines } from '../models/synth/declarations.js';
import { GENERATOR_VERSION, type Sample } from '../models/synth/index.js';
import { Rng } from '../models/synth/prng.js';
import { loadPolicy } from '../pipeline/policy.js';

/** A labelled folder's `meta/<id>.json`, as the generator writes it (a site's own set may carry less). */
export interface Meta {
  id: string;
  kind: 'container' | 'parcel';
  /** Labelled boxes in the rendering's pixels [x1, y1, x2, y2] (a YOLO set's boxes, converted). */
  boxes: Array<{ label: string; box?: [number, number, number, number]; visibility?: { itemGcm2: number; clutterGcm2: number } }>;
  categories?: string[];
  counts?: Record<string, number>;
  /** Containers drawn since 2026-12-05: the box's build (length, reefer, chassis). */
  container?: Sample['container'];
}

/** A stream's scan as loadStream returns it: the labelled scan and the generator's meta file it was built from. */
export type StreamScan = LabelledScan & { meta: Meta };

/** The cargo classifier's scores of `min` and over, to two decimals (what the analysis scripts print). */
function classifierSeen(s: LabelledScan, min = 0.05): Record<string, number> {
  const scores = s.input.modelOutputs.find((o) => o.task === 'classify')?.scores ?? {};
  return Object.fromEntries(Object.entries(scores).filter(([, v]) => v >= min).map(([k, v]) => [k, round(v, 2)]));
}

/** What the analysis scripts list about any stream scan: what the generator drew, what was declared, what the classifier saw. */
export interface ScanFacts {
  drawn: string[] | Record<string, number> | undefined;
  /** Streams written before 2026-12-05 do not record the container's build. */
  build?: Meta['container'];
  declared: string[] | null;
  /** The classifier's scores of 0.05 and over. */
  classifier: Record<string, number>;
}

export function scanFacts(s: StreamScan): ScanFacts {
  return {
    drawn: s.meta.categories ?? s.meta.counts,
    ...(s.meta.container && { build: s.meta.container }),
    declared: s.input.declaration?.lines.map((l) => l.hsCode) ?? null,
    classifier: classifierSeen(s),
  };
}

/** ` in a 20 ft reefer` / ` in a 40 ft dry box`, or nothing where the stream does not record the build. */
export const buildText = (b: Meta['container'] | undefined): string => (b ? ` in a ${b.lengthFt} ft ${b.reefer ? 'reefer' : 'dry box'}` : '');

const ALARM_LABELS = new Set<string>([...CONTAINER_THREATS, ...PARCEL_PROHIBITED, ...PARCEL_RESTRICTED]);

/** The problems a labelled stream's declarations carry, as the assessment benchmark plants them: 5 % misdeclared, 3 % dishonest shippers. */
export const STREAM_RATES = { misdeclaredRate: 0.05, dishonestRate: 0.03 } as const;

export interface StreamOptions {
  registryDir: string;
  misdeclaredRate: number;
  dishonestRate: number;
  seed: number;
  limit?: number;
  /**
   * Containers: pass the material channel (material/<id>.png, `npm run synth -- --material`) where the set has
   * one, as the pipeline does for a scan sent as a raw pair (default true); false: the grey rendering only.
   */
  material?: boolean;
  /**
   * Read the model outputs from this file (one loadStream cached, e.g. under an earlier checkout's runtime)
   * instead of running the registry: how a new runtime is compared with the one it replaces.
   */
  outputsFile?: string;
}

/**
 * The cards a run's outputs depend on, for its cache key: a dual-energy verifier only with the material channel;
 * a grey verifier only without it, or with it when no dual-energy one verifies the same grid (as the runtime
 * picks). A new dual-energy verifier then leaves the renderings-only outputs cached, and the reverse.
 */
export function cardsUsed(cards: readonly ModelCard[], material: boolean): ModelCard[] {
  const dual = new Set(cards.filter((c) => c.task === 'verify' && readsMaterial(c)).map((c) => c.verifies?.model));
  return cards.filter((c) => c.task !== 'verify' || (readsMaterial(c) ? material : !(material && dual.has(c.verifies?.model))));
}

/**
 * The registry's outputs on every scan of a labelled folder, cached beside it per model set (cards and runtime
 * revision): a later run with the same models reads them back.
 */
async function streamOutputs(dir: string, metas: readonly Meta[], modality: Modality, o: StreamOptions): Promise<Record<string, ModelEvidence[]>> {
  const runtime = await createModelRuntime({ registryDir: o.registryDir });
  const material = modality === 'container-xray' && o.material !== false && (await readdir(join(dir, 'material')).catch(() => [])).length > 0;
  const cards = cardsUsed(runtime.modelsFor(modality), material);
  // a folder written with `synth --deep` has the deep plane, which a grey+material+deep verifier reads beside
  const wantsDeep = material && cards.some(readsDeep);
  const deep = wantsDeep && (await readdir(join(dir, 'deep')).catch(() => [])).length > 0;
  if (wantsDeep && !deep) process.stderr.write(`${dir}: no deep/ folder (synth --deep): the grey verifier serves in place of the one that reads it\n`);
  // a card change (thresholds, a verifier's fusion) changes the outputs as much as a new .onnx does, and so does a
  // runtime that prepares the models' inputs differently (RUNTIME_REVISION)
  const cardsHash = createHash('sha256').update(JSON.stringify(cards)).digest('hex').slice(0, 12);
  const cacheKey = cards.length ? `${cards.map((c) => `${c.name}@${c.sha256.slice(0, 12)}`).join('+')}+cards@${cardsHash}${material ? '+material' : ''}${deep ? '+deep' : ''}+${RUNTIME_REVISION}` : 'none';
  // a limited run caches its own file: a full run must never read the first `limit` scans' outputs as all of them
  const cachePath = join(dir, `outputs.${cacheKey.replace(/[^A-Za-z0-9@+.-]/g, '_')}${o.limit === undefined ? '' : `.first${o.limit}`}.json`);
  let outputs: Record<string, ModelEvidence[]>;
  // which models (name and version, not just the cache file's sha prefixes) produced the outputs a run reads
  const models = cards.map((c) => `${c.name} ${c.version}`).join(', ');
  try {
    outputs = JSON.parse(await readFile(cachePath, 'utf8')) as Record<string, ModelEvidence[]>;
    process.stderr.write(`${dir}: model outputs read from ${basename(cachePath)} (${models})\n`);
  } catch {
    process.stderr.write(`${dir}: running ${models} over ${metas.length} scans\n`);
    outputs = {};
    let next = 0;
    // Several images in flight so the runtime's micro-batcher fills its batches.
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < metas.length) {
        const m = metas[next++]!;
        // with a material channel both planes are read as one channel (sharp gives a grey PNG as sRGB)
        const read = async (folder: string) => {
          const img = sharp(join(dir, folder, `${m.id}.png`));
          const { data, info } = await (material ? img.extractChannel(0) : img).raw().toBuffer({ resolveWithObject: true });
          return { width: info.width, height: info.height, channels: info.channels as 1 | 3, data: new Uint8Array(data) };
        };
        outputs[m.id] = await runtime.infer(modality, await read('images'), material ? { material: await read('material'), ...(deep && { deep: await read('deep') }) } : {});
      }
    }));
    await writeFile(cachePath, JSON.stringify(outputs));
  }
  await runtime.close();
  return outputs;
}

/**
 * The generator that wrote a synthetic folder: `dataset.json`'s as `npm run synth` writes it, or the benchmark's
 * `generator.txt`; null for a folder with neither (a site's own labelled scans).
 */
export async function streamGenerator(dir: string): Promise<string | null> {
  const stamp = (await readFile(join(dir, 'generator.txt'), 'utf8').catch(() => '')).trim();
  if (stamp) return stamp;
  const dataset = await readFile(join(dir, 'dataset.json'), 'utf8').catch(() => null);
  if (dataset === null) return null;
  const generator = (JSON.parse(dataset) as { generator?: unknown }).generator;
  return typeof generator === 'string' ? generator : null;
}

/**
 * Runs the models over a labelled folder (cached per model set) and builds the labelled stream. A synthetic folder
 * written by another generator version is refused: its labels may differ from what this checkout's generator draws
 * (1.1.0 relabelled containers 1.0.0 had labelled with goods their images do not show).
 */
export async function loadStream(dir: string, o: StreamOptions): Promise<StreamScan[]> {
  const generator = await streamGenerator(dir);
  if (generator !== null && generator !== GENERATOR_VERSION) {
    throw new Error(`${dir} was written by ${generator}, this checkout's generator is ${GENERATOR_VERSION}: its labels may differ; write it again from its seed`);
  }
  const metaFiles = (await readdir(join(dir, 'meta'))).filter((f) => f.endsWith('.json')).sort().slice(0, o.limit);
  const metas = await Promise.all(metaFiles.map(async (f) => JSON.parse(await readFile(join(dir, 'meta', f), 'utf8')) as Meta));
  const modality: Modality = metas[0]?.kind === 'parcel' ? 'parcel-ct' : 'container-xray';
  const outputs = o.outputsFile ? (JSON.parse(await readFile(o.outputsFile, 'utf8')) as Record<string, ModelEvidence[]>) : await streamOutputs(dir, metas, modality, o);
  const missing = metas.filter((m) => !outputs[m.id]).length;
  if (o.outputsFile && missing) throw new Error(`${o.outputsFile}: no model outputs for ${missing} of the ${metas.length} scans of ${dir}`);

  return metas.map((m, i) => {
    const r = Rng.forSample(o.seed, i);
    const misdeclare = r.next() < o.misdeclaredRate;
    const creditLevel: CreditLevel = r.next() < o.dishonestRate ? 'dishonest' : r.next() < 0.2 ? 'aeo-advanced' : 'ordinary';
    const faithful = m.kind === 'parcel' ? parcelLines(m.counts ?? {}) : containerLines(m.categories ?? []);
    const planted = misdeclare ? (m.kind === 'parcel' ? misdeclareParcel(o.seed, i, m.counts ?? {}) : misdeclareContainer(o.seed, i, m.categories ?? [])) : null;
    const subject = m.kind === 'parcel' ? { waybill: `CAL${String(i).padStart(8, '0')}` } : { containerNo: 'CSQU3054383' };
    let lines = planted?.lines ?? faithful;
    // A parcel declaration needs a line; a parcel holding only undeclarable items declares a T-shirt.
    if (m.kind === 'parcel' && lines.length === 0) lines = [{ hsCode: '6109100000', description: 'T-shirts', quantity: 1, unit: 'pcs', grossKg: 0.3 }];
    const raw = {
      declarationId: `CAL-${i}`,
      ...(m.kind === 'parcel' ? { waybills: [subject.waybill] } : { containers: [{ containerNo: 'CSQU3054383' }] }),
      lines,
      enterprise: { id: `ENT-${i % 50}`, creditLevel },
    };
    const checked = validateDeclaration(raw);
    if (!checked.ok) throw new Error(`stream declaration ${i} invalid: ${JSON.stringify(checked.errors)}`);
    return {
      meta: m,
      input: { scanId: m.id, modality, subject, declaration: checked.declaration, modelOutputs: outputs[m.id] ?? [] },
      truth: {
        prohibited: m.boxes.some((b) => ALARM_LABELS.has(b.label)),
        misdeclared: planted !== null,
        ...(planted && { misdeclaration: planted.kind }),
        dishonest: creditLevel === 'dishonest',
        threats: m.boxes.flatMap((b) => (ALARM_LABELS.has(b.label) && b.box ? [{ label: b.label, box: b.box }] : [])),
      },
    };
  });
}

const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(2)}%`);

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      holdout: { type: 'string' },
      'target-false-clear': { type: 'string', default: '0.005' },
      'min-prohibited-recall': { type: 'string', default: '0' },
      'min-misdeclared-recall': { type: 'string', default: '0' },
      'misdeclared-rate': { type: 'string', default: String(STREAM_RATES.misdeclaredRate) },
      'dishonest-rate': { type: 'string', default: String(STREAM_RATES.dishonestRate) },
      seed: { type: 'string', default: '1' },
      policy: { type: 'string' },
      registry: { type: 'string', default: 'models/registry' },
      out: { type: 'string', default: 'calibration-report.json' },
      'policy-out': { type: 'string', default: 'calibrated-policy.json' },
      limit: { type: 'string' },
      'threat-classes': { type: 'boolean', default: false },
      'recall-data': { type: 'string' },
      'min-recall-data-recall': { type: 'string' },
      // containers: the grey rendering only, as for scans sent without their raw pair (no material channel)
      'rendering-only': { type: 'boolean', default: false },
      margin: { type: 'string', default: '0.5' },
    },
  });
  if (!values.data) throw new Error('usage: npm run calibrate -- --data <dir> [--holdout <dir>] [--target-false-clear 0.005] [--min-prohibited-recall 0.99] [--min-misdeclared-recall 0.95] [--recall-data <dir> [--min-recall-data-recall R]] [--rendering-only] | --data <dir> --threat-classes [--margin 0.5] [--rendering-only]');
  const target = Number(values['target-false-clear']);
  const minProhibitedRecall = Number(values['min-prohibited-recall']);
  const minMisdeclaredRecall = Number(values['min-misdeclared-recall']);
  for (const [name, v] of [['--target-false-clear', target], ['--min-prohibited-recall', minProhibitedRecall], ['--min-misdeclared-recall', minMisdeclaredRecall]] as const) {
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${name} must be a share between 0 and 1, got ${String(v)}`);
  }
  const opts = { registryDir: values.registry!, misdeclaredRate: Number(values['misdeclared-rate']), dishonestRate: Number(values['dishonest-rate']), seed: Number(values.seed), ...(values.limit && { limit: Number(values.limit) }), ...(values['rendering-only'] && { material: false }) };
  const base = await loadPolicy(values.policy);
  const stream = await loadStream(values.data, opts);
  // where the stream's detections come from, with the thresholds under which each model emits nothing
  const modality = stream[0]?.input.modality ?? 'container-xray';
  const cards = (await loadRegistry(values.registry!)).map((m) => m.card);
  const sources = detectionSources(cards.filter((c) => cardModalities(c).includes(modality)));
  // the written policy serves every modality: each model's threshold is checked against its own card
  const everySource = detectionSources(cards);
  if (values['threat-classes']) {
    await threatClasses(stream, base, Number(values.margin), values.out!, values['policy-out']!, sources, everySource);
    return;
  }
  const recallFloor = values['min-recall-data-recall'] === undefined ? undefined : Number(values['min-recall-data-recall']);
  if (recallFloor !== undefined && !(recallFloor >= 0 && recallFloor <= 1)) throw new Error(`--min-recall-data-recall must be a share between 0 and 1, got ${values['min-recall-data-recall']}`);
  const recallStream = values['recall-data'] ? await loadStream(values['recall-data'], { ...opts, seed: opts.seed + 2 }) : null;
  if (recallStream && !recallStream.some((s) => s.truth.prohibited)) throw new Error(`--recall-data ${values['recall-data']} holds no labelled threats`);
  if (recallStream && recallStream[0]!.input.modality !== stream[0]?.input.modality) {
    throw new Error(`--recall-data holds ${recallStream[0]!.input.modality} scans, --data ${stream[0]?.input.modality ?? 'none'}: they must be the same kind`);
  }
  // the threat scale moves the thresholds of this modality's models only: the written policy serves every modality
  const result = calibrate(stream, base, {
    threatScope: sources,
    targetFalseClear: target,
    minProhibitedRecall,
    minMisdeclaredRecall,
    ...(recallStream && { recallSet: { stream: recallStream, ...(recallFloor !== undefined && { minProhibitedRecall: recallFloor }) } }),
  });
  const holdout = values.holdout && result.policy ? streamMetrics(await loadStream(values.holdout, { ...opts, seed: opts.seed + 1 }), result.policy) : null;
  const report = {
    data: values.data, holdout: values.holdout ?? null, recallData: values['recall-data'] ?? null, recallSet: result.recallSet ?? null, targetFalseClear: target, minProhibitedRecall, minMisdeclaredRecall, ...opts,
    baseline: result.baseline, chosen: result.chosen, holdoutMetrics: holdout, candidatesTried: result.candidatesTried, bestWithoutFloors: result.bestWithoutFloors,
  };
  await writeFile(values.out!, JSON.stringify(report, null, 2) + '\n');
  // a scaled threshold under a model's own is written as the model's (the same verdicts: nothing under it is emitted)
  const written = result.policy ? raiseToModelFloors(result.policy, everySource) : null;
  if (written) await writeFile(values['policy-out']!, JSON.stringify(written.policy, null, 2) + '\n');
  // per kind of misdeclaration, where the set names them: caught / planted
  const kinds = (m: StreamMetrics) => Object.entries(m.misdeclaredBy).map(([k, v]) => `${k} ${v.caught}/${v.planted}`).join(', ');
  const line = (name: string, m: StreamMetrics) =>
    console.log(`${name.padEnd(22)} auto-clear of clean ${pct(m.autoClearOfClean)}  prohibited recall ${pct(m.prohibitedRecall)}  misdeclaration recall ${pct(m.misdeclaredRecall)}${kinds(m) ? ` (${kinds(m)})` : ''}  false clears ${pct(m.falseClearRate)}`);
  line('default policy', result.baseline);
  if (result.recallSet) console.log(`recall data: default policy catches ${pct(result.recallSet.baseline)} of its threat scans; floor ${pct(result.recallSet.floor)}${result.chosen?.recallSetRecall !== undefined ? `, chosen ${pct(result.chosen.recallSetRecall)}` : ''}`);
  if (result.recallSet?.located) console.log(`recall data: planted items the default policy locates, kept by every candidate: ${Object.entries(result.recallSet.located).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (result.chosen) {
    console.log(`chosen thresholds: ${JSON.stringify(result.chosen.thresholds)}`);
    line('calibrated (fit set)', result.chosen.metrics);
    if (holdout) line('calibrated (hold-out)', holdout);
  } else {
    console.log(`no thresholds keep false clears within ${pct(target)} and the recall floors (prohibited ≥ ${pct(minProhibitedRecall)}, misdeclared ≥ ${pct(minMisdeclaredRecall)}) on this set`);
    if (result.bestWithoutFloors) line('closest (not chosen)', result.bestWithoutFloors.metrics);
  }
  console.log(`report: ${values.out}${result.policy ? `, policy: ${values['policy-out']}` : ''}`);
  if (written) noteRaised(written.raised, true);
  else noteRaised(thresholdsUnderModelFloors(base, everySource), false);
}

/**
 * Names thresholds under a model's own (`written`: the calibrated ones, written as the model's; else the base
 * policy's, when nothing was written): nothing under the model's threshold is emitted, so a lower threshold has
 * no effect (and a lower proposal measured nothing).
 */
function noteRaised(raised: readonly ThresholdUnderFloor[], written: boolean): void {
  const whose = written ? 'the calibrated' : 'the base policy\'s';
  for (const t of raised) {
    console.log(`note: ${t.models.join(' > ')} ${t.label}: ${whose} ${t.policy} is under the model's own threshold ${t.floor}, which applies${written ? ' (written as such)' : ''}`);
  }
}

async function threatClasses(stream: LabelledScan[], base: RiskPolicy, margin: number, out: string, policyOut: string, sources: readonly DetectionSource[], everySource: readonly DetectionSource[]): Promise<void> {
  if (!stream.some((s) => s.truth.threats?.length)) throw new Error('--threat-classes needs a set with labelled threat boxes (meta/<id>.json boxes with a box)');
  const study = studyThreatClasses(stream, base, { margin, sources });
  const { policy, raised } = raiseToModelFloors(withStudiedThresholds(base, study, `${base.version}-classes`), everySource);
  await writeFile(out, JSON.stringify({ margin, study }, null, 2) + '\n');
  await writeFile(policyOut, JSON.stringify(policy, null, 2) + '\n');
  console.log(`${'model'.padEnd(28)} ${'class'.padEnd(20)} items  threshold  located  clean flagged  → proposed  located  clean flagged`);
  for (const s of study) {
    const f = (v: { located: number; cleanFlagged: number }) => `${String(v.located).padStart(7)}  ${pct(v.cleanFlagged / s.cleanScans).padStart(13)}`;
    console.log(`${s.model.padEnd(28)} ${s.label.padEnd(20)} ${String(s.positives).padStart(5)}  ${s.current.toFixed(4).padStart(9)}  ${f(s.atCurrent)}  → ${s.proposed === null ? '      n/a' : s.proposed.toFixed(4).padStart(8)}  ${s.atProposed ? f(s.atProposed) : ''}`);
  }
  console.log(`clean scans: ${study[0]?.cleanScans ?? 0}; a planted item counts as located only when a detection of its own class overlaps it`);
  console.log(`report: ${out}, policy: ${policyOut}`);
  noteRaised(raised, true);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
