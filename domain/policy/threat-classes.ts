// Per-class threat thresholds studied on a labelled set with the planted items' boxes: for each model that
// confirms detections and each threat class, how many planted items of that class a detection of that class
// finds at their place (located recall), how many clean scans that class flags, at the policy's threshold
// and across a table of thresholds; and how far the threshold can rise without losing a located item.
// A scan caught only because some other class fired elsewhere in it is luck, not detection: this study
// counts a planted item only when a detection of its own class overlaps it. Pure.
import type { Box } from '../verdict.js';
import { allDetections, type SeenDetection } from '../assessment/evidence.js';
import { threatThreshold, type DetectionSource, type RiskPolicy } from './policy.js';
import type { LabelledScan } from './calibrate.js';

export interface ThreatClassStudy {
  /** The model whose per-model threshold applies (the verifier when one confirmed the detections). */
  model: string;
  label: string;
  /** The policy's threshold for this model and class now. */
  current: number;
  positives: number;
  cleanScans: number;
  atCurrent: { located: number; cleanFlagged: number };
  /** Lowest score of a located item at or above the current threshold (null: none located). */
  lowestLocated: number | null;
  /**
   * `margin` × lowestLocated, never below the current threshold nor above the hold threshold: every item
   * located now still is, with room for items that score lower than any in this set. Null: nothing to base
   * it on (no located item).
   */
  proposed: number | null;
  atProposed: { located: number; cleanFlagged: number } | null;
  /** Located recall and share of clean scans flagged by this class at each threshold tried. */
  table: Array<{ threshold: number; locatedRecall: number; cleanFlagRate: number }>;
}

export interface ThreatClassOptions {
  /** The proposed threshold as a share of the lowest located score (default 0.5). */
  margin?: number;
  /** A detection locates an item when their intersection covers this share of the smaller box (default 0.1). */
  minOverlap?: number;
  /** Thresholds of the table (default 0.05 … 0.9). */
  table?: readonly number[];
  /** The classes studied (default: every label a planted item of the set carries). */
  labels?: readonly string[];
  /**
   * The models' own thresholds (models/runtime `detectionSources`): nothing under them is emitted, so no
   * threshold is proposed under them (a proposal there would be one that has no effect).
   */
  sources?: readonly DetectionSource[];
}

const DEFAULT_TABLE = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9];

/** Intersection over the smaller box's area (0: the boxes do not meet). */
export function overlap(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (r: Box) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  const smaller = Math.min(area(a), area(b));
  return smaller > 0 ? (ix * iy) / smaller : 0;
}

const modelOf = (d: SeenDetection) => d.verifiedBy ?? d.model;

/** A scan's strongest box of `label` from `model` (the verifier, when one confirmed the boxes); 0 when none. */
export function strongestScore(dets: readonly SeenDetection[], model: string, label: string): number {
  return Math.max(0, ...dets.filter((d) => modelOf(d) === model && d.label === label).map((d) => d.score));
}

/**
 * Studies every (model, class) pair the stream's detections carry. Scans need `truth.threats` (the planted
 * items with boxes in the rendering's pixels); a scan without any planted item and without a planted
 * misdeclaration is clean.
 */
export function studyThreatClasses(stream: readonly LabelledScan[], policy: RiskPolicy, o: ThreatClassOptions = {}): ThreatClassStudy[] {
  const margin = o.margin ?? 0.5;
  const minOverlap = o.minOverlap ?? 0.1;
  const table = o.table ?? DEFAULT_TABLE;
  if (!(margin > 0 && margin <= 1)) throw new Error(`margin must be in (0, 1], got ${margin}`);
  // per model and label: each planted item's best located score (0: not found), each clean scan's best score
  const pos = new Map<string, number[]>();
  const clean = new Map<string, number[]>();
  const key = (model: string, label: string) => `${model}\u0000${label}`;
  const push = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  const models = new Set<string>();
  const labels = new Set<string>(o.labels ?? []);
  let cleanScans = 0;
  const scans = stream.map((s) => ({ s, dets: allDetections(s.input.modelOutputs) }));
  for (const { s, dets } of scans) {
    for (const d of dets) models.add(modelOf(d));
    if (!o.labels) for (const t of s.truth.threats ?? []) labels.add(t.label);
  }
  for (const { s, dets } of scans) {
    const planted = s.truth.threats ?? [];
    const isClean = planted.length === 0 && !s.truth.prohibited && !s.truth.misdeclared;
    if (isClean) cleanScans++;
    for (const model of models) {
      const mine = dets.filter((d) => modelOf(d) === model);
      for (const label of labels) {
        const k = key(model, label);
        if (isClean) push(clean, k, strongestScore(mine, model, label));
        for (const t of planted) {
          if (t.label !== label) continue;
          const best = Math.max(0, ...mine.filter((d) => d.label === label && overlap(d.box, t.box) >= minOverlap).map((d) => d.score));
          push(pos, k, best);
        }
      }
    }
  }
  const out: ThreatClassStudy[] = [];
  const hold = policy.security.holdThreshold;
  for (const model of [...models].sort()) {
    for (const label of [...labels].sort()) {
      const k = key(model, label);
      const p = pos.get(k) ?? [];
      const c = clean.get(k) ?? [];
      // a model that never gives this label: nothing to say
      if (!p.some((v) => v > 0) && !c.some((v) => v > 0)) continue;
      const current = threatThreshold(policy, label, [model]);
      const at = (t: number) => ({ located: p.filter((v) => v > 0 && v >= t).length, cleanFlagged: c.filter((v) => v > 0 && v >= t).length });
      const located = p.filter((v) => v > 0 && v >= current);
      const lowestLocated = located.length ? Math.min(...located) : null;
      const floor = o.sources?.find((src) => src.models[0] === model)?.floor[label] ?? 0;
      const proposed = lowestLocated === null ? null : Math.max(floor, Math.min(Math.max(current, margin * lowestLocated), Math.max(current, hold)));
      out.push({
        model,
        label,
        current,
        positives: p.length,
        cleanScans,
        atCurrent: at(current),
        lowestLocated,
        proposed,
        atProposed: proposed === null ? null : at(proposed),
        table: table.map((t) => {
          const n = at(t);
          return { threshold: t, locatedRecall: p.length ? n.located / p.length : NaN, cleanFlagRate: cleanScans ? n.cleanFlagged / cleanScans : NaN };
        }),
      });
    }
  }
  return out;
}

/** The policy with every proposed threshold that rises above the current one, as per-model thresholds. */
export function withStudiedThresholds(base: RiskPolicy, study: readonly ThreatClassStudy[], version: string): RiskPolicy {
  const modelThreatThresholds = structuredClone(base.security.modelThreatThresholds);
  for (const s of study) {
    if (s.proposed === null || s.proposed <= s.current) continue;
    modelThreatThresholds[s.model] = { ...modelThreatThresholds[s.model], [s.label]: Math.round(s.proposed * 1e4) / 1e4 };
  }
  return { ...base, version, security: { ...base.security, modelThreatThresholds } };
}

/** `base` with verifier (or detector) `model`'s per-class thresholds replaced by `thresholds`, as `version`. */
export function withModelThresholds(base: RiskPolicy, model: string, thresholds: Record<string, number>, version: string): RiskPolicy {
  return { ...base, version, security: { ...base.security, modelThreatThresholds: { ...base.security.modelThreatThresholds, [model]: thresholds } } };
}

export interface LocatedMatch {
  /** Planted items the old model's study locates at its current threshold. */
  oldLocated: number;
  /** What the new threshold keeps: oldLocated, or all the new model locates at its table's lowest threshold when fewer. */
  target: number;
  /** The highest table threshold locating at least `target` items, × margin, never under the model's own. */
  threshold: number;
}

/**
 * Thresholds for a new version of `model` that keep, class by class, the planted items its predecessor located
 * (a threat-rich labelled set studied with both: `old` with the predecessor's policy, `neu` with the new model's
 * outputs): per class, the highest threshold of the new study's table at which it locates at least as many items
 * as the old study did at its current threshold (or as many as the new model can), times `margin` for items that
 * score lower than any in the set, never under `floors` (the new model's own thresholds: nothing under them is
 * emitted). Classes without a planted item in the set are left out.
 */
export function locatedMatchedThresholds(
  old: readonly ThreatClassStudy[],
  neu: readonly ThreatClassStudy[],
  model: string,
  floors: Readonly<Record<string, number>>,
  margin = 0.5,
): Record<string, LocatedMatch> {
  if (!(margin > 0 && margin <= 1)) throw new Error(`margin must be in (0, 1], got ${margin}`);
  const out: Record<string, LocatedMatch> = {};
  for (const s of neu) {
    if (s.model !== model || s.positives === 0) continue;
    const located = (r: { locatedRecall: number }) => Math.round(r.locatedRecall * s.positives);
    const before = old.find((o) => o.model === model && o.label === s.label);
    const oldLocated = before?.atCurrent.located ?? 0;
    const target = Math.min(oldLocated, Math.max(0, ...s.table.map(located)));
    // never empty: the table's row that locates the most keeps `target`
    const highest = Math.max(...s.table.filter((r) => located(r) >= target).map((r) => r.threshold));
    const floor = floors[s.label] ?? 0;
    out[s.label] = { oldLocated, target, threshold: Math.max(floor, Math.round(highest * margin * 1e4) / 1e4) };
  }
  return out;
}
