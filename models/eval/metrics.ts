// Evaluation maths, pure: AP@0.5 (all-point interpolated), greedy IoU matching per class, per-class
// precision/recall at a threshold, threshold tables, and confusion matrices for classifiers and detectors.
import type { Box } from '../../domain/verdict.js';
import { iou } from '../runtime/yolo.js';

export interface GtBox { label: string; box: Box; }
export interface PredBox { label: string; score: number; box: Box; }

/** Area under the precision–recall curve with all-point interpolation; `nPos` counts missed objects too. */
export function averagePrecision(scored: ReadonlyArray<{ score: number; tp: boolean }>, nPos: number): number | null {
  if (nPos <= 0) return null;
  const s = [...scored].sort((a, b) => b.score - a.score);
  const rec: number[] = [0], prec: number[] = [1];
  let tp = 0;
  s.forEach((d, i) => {
    if (d.tp) tp++;
    rec.push(tp / nPos);
    prec.push(tp / (i + 1));
  });
  for (let i = prec.length - 2; i >= 0; i--) prec[i] = Math.max(prec[i] as number, prec[i + 1] as number);
  let ap = 0;
  for (let i = 1; i < rec.length; i++) ap += ((rec[i] as number) - (rec[i - 1] as number)) * (prec[i] as number);
  return ap;
}

/** PR curve points (recall, precision) in descending score order, for plots. */
export function prCurve(scored: ReadonlyArray<{ score: number; tp: boolean }>, nPos: number): Array<[number, number]> {
  const s = [...scored].sort((a, b) => b.score - a.score);
  let tp = 0;
  return s.map((d, i) => { if (d.tp) tp++; return [tp / Math.max(1, nPos), tp / (i + 1)] as [number, number]; });
}

export interface MatchedImage { scored: Array<PredBox & { tp: boolean }>; gts: GtBox[]; }

/**
 * When a prediction finds a ground-truth box: `iou` at a threshold (box detectors, AP@0.5), or `centre`: the
 * ground-truth box's centre lies in the predicted region (grid detectors, whose regions are whole cells and
 * cannot reach IoU 0.5 on a knife a few pixels wide).
 */
export type MatchRule = { kind: 'iou'; threshold: number } | { kind: 'centre' };
export const IOU50: MatchRule = { kind: 'iou', threshold: 0.5 };

/** How well p covers g under the rule: >= the returned threshold means a match; larger is better. */
function closeness(rule: MatchRule, p: Box, g: Box): number {
  if (rule.kind === 'iou') return iou(p, g);
  const cx = (g[0] + g[2]) / 2, cy = (g[1] + g[3]) / 2;
  if (cx < p[0] || cx > p[2] || cy < p[1] || cy > p[3]) return 0;
  return 1 + iou(p, g); // inside; prefer the tighter region
}
const floor = (rule: MatchRule): number => (rule.kind === 'iou' ? rule.threshold : 1);

export function describeRule(rule: MatchRule): string {
  return rule.kind === 'iou' ? `IoU >= ${rule.threshold}` : 'ground-truth centre inside the predicted region';
}

/** Greedy matching per class under `rule` (default IoU ≥ 0.5): highest score first, each ground-truth box matched once. */
export function matchImage(preds: readonly PredBox[], gts: readonly GtBox[], rule: MatchRule | number = IOU50): MatchedImage {
  const r: MatchRule = typeof rule === 'number' ? { kind: 'iou', threshold: rule } : rule;
  const used = new Set<number>();
  const scored = [...preds].sort((a, b) => b.score - a.score).map((p) => {
    let best = -1, bestIou = floor(r);
    gts.forEach((g, j) => {
      if (used.has(j) || g.label !== p.label) return;
      const v = closeness(r, p.box, g.box);
      if (v >= bestIou) { bestIou = v; best = j; }
    });
    if (best >= 0) used.add(best);
    return { ...p, tp: best >= 0 };
  });
  return { scored, gts: [...gts] };
}

export interface ClassDetectionMetrics { support: number; ap50: number | null; precision: number | null; recall: number | null; tp: number; fp: number; fn: number; }

export interface ThresholdRow { threshold: number; perClass: Record<string, { recall: number | null; precision: number | null; falseAlarmsPerImage: number }>; falseAlarmsPerImage: number; falseAlarmsPerCleanImage: number | null; }

export function detectionReport(images: readonly MatchedImage[], labels: readonly string[], thresholds: Record<string, number>, table: readonly number[]) {
  const perClass: Record<string, ClassDetectionMetrics> = {};
  const curves: Record<string, Array<[number, number]>> = {};
  for (const l of labels) {
    const scored = images.flatMap((im) => im.scored.filter((p) => p.label === l));
    const n = images.reduce((s, im) => s + im.gts.filter((g) => g.label === l).length, 0);
    const th = thresholds[l] ?? 0.5;
    const tp = scored.filter((p) => p.tp && p.score >= th).length;
    const fp = scored.filter((p) => !p.tp && p.score >= th).length;
    perClass[l] = { support: n, ap50: averagePrecision(scored, n), precision: tp + fp > 0 ? tp / (tp + fp) : null, recall: n > 0 ? tp / n : null, tp, fp, fn: n - tp };
    curves[l] = prCurve(scored, n);
  }
  const aps = Object.values(perClass).map((c) => c.ap50).filter((v): v is number => v !== null);
  const clean = images.filter((im) => im.gts.length === 0);
  const rows: ThresholdRow[] = table.map((t) => {
    const pc: ThresholdRow['perClass'] = {};
    let fpAll = 0;
    for (const l of labels) {
      const sc = images.flatMap((im) => im.scored.filter((p) => p.label === l && p.score >= t));
      const tp = sc.filter((p) => p.tp).length, fp = sc.length - tp;
      fpAll += fp;
      const n = perClass[l]?.support ?? 0;
      pc[l] = { recall: n > 0 ? tp / n : null, precision: sc.length > 0 ? tp / sc.length : null, falseAlarmsPerImage: fp / Math.max(1, images.length) };
    }
    const cleanFa = clean.reduce((s, im) => s + im.scored.filter((p) => p.score >= t).length, 0);
    return { threshold: t, perClass: pc, falseAlarmsPerImage: fpAll / Math.max(1, images.length), falseAlarmsPerCleanImage: clean.length > 0 ? cleanFa / clean.length : null };
  });
  return { images: images.length, cleanImages: clean.length, mAP50: aps.length > 0 ? aps.reduce((a, b) => a + b, 0) / aps.length : null, perClass, thresholdTable: rows, curves };
}

/** Detection confusion under `rule` (default IoU ≥ 0.5) ignoring class: rows truth (+ 'background'), columns predicted (+ 'missed'). */
export function detectionConfusion(images: ReadonlyArray<{ preds: readonly PredBox[]; gts: readonly GtBox[] }>, labels: readonly string[], thresholds: Record<string, number>, rule: MatchRule = IOU50): { rows: string[]; cols: string[]; counts: number[][] } {
  const rows = [...labels, 'background'], cols = [...labels, 'missed'];
  const counts = rows.map(() => cols.map(() => 0));
  for (const im of images) {
    const preds = im.preds.filter((p) => p.score >= (thresholds[p.label] ?? 0.5)).sort((a, b) => b.score - a.score);
    const taken = new Set<number>();
    for (const g of im.gts) {
      let best = -1, bestIou = floor(rule);
      preds.forEach((p, j) => { const v = closeness(rule, p.box, g.box); if (!taken.has(j) && v >= bestIou) { bestIou = v; best = j; } });
      const r = rows.indexOf(g.label);
      if (r < 0) continue;
      const c = best >= 0 ? cols.indexOf((preds[best] as PredBox).label) : cols.length - 1;
      if (best >= 0) taken.add(best);
      (counts[r] as number[])[c] = ((counts[r] as number[])[c] as number) + 1;
    }
    preds.forEach((p, j) => {
      if (taken.has(j)) return;
      const c = cols.indexOf(p.label);
      if (c >= 0) (counts[rows.length - 1] as number[])[c] = ((counts[rows.length - 1] as number[])[c] as number) + 1;
    });
  }
  return { rows, cols, counts };
}

/** Classifier report: each image has one true label and a score per model label. */
export function classificationReport(items: ReadonlyArray<{ truth: string; scores: Record<string, number> }>, labels: readonly string[], thresholds: Record<string, number>, table: readonly number[]) {
  const top = (s: Record<string, number>): string => labels.reduce((b, l) => ((s[l] ?? -1) > (s[b] ?? -1) ? l : b), labels[0] as string);
  const cm = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (const it of items) {
    const p = top(it.scores);
    if (p === it.truth) correct++;
    const r = labels.indexOf(it.truth), c = labels.indexOf(p);
    if (r >= 0 && c >= 0) (cm[r] as number[])[c] = ((cm[r] as number[])[c] as number) + 1;
  }
  const perClass: Record<string, { support: number; precision: number | null; recall: number | null; ap: number | null }> = {};
  const curves: Record<string, Array<[number, number]>> = {};
  labels.forEach((l, i) => {
    const support = items.filter((it) => it.truth === l).length;
    const predicted = cm.reduce((s, row) => s + (row[i] as number), 0);
    const tp = (cm[i] as number[])[i] as number;
    const scored = items.map((it) => ({ score: it.scores[l] ?? 0, tp: it.truth === l }));
    perClass[l] = { support, precision: predicted > 0 ? tp / predicted : null, recall: support > 0 ? tp / support : null, ap: averagePrecision(scored, support) };
    curves[l] = prCurve(scored, support);
  });
  const aps = Object.values(perClass).map((c) => c.ap).filter((v): v is number => v !== null);
  const rows = table.map((t) => ({
    threshold: t,
    perClass: Object.fromEntries(labels.map((l) => {
      const pos = items.filter((it) => it.truth === l), neg = items.filter((it) => it.truth !== l);
      return [l, { recall: pos.length ? pos.filter((it) => (it.scores[l] ?? 0) >= t).length / pos.length : null, falseAlarmRate: neg.length ? neg.filter((it) => (it.scores[l] ?? 0) >= t).length / neg.length : null }];
    })),
  }));
  return { images: items.length, top1Accuracy: items.length ? correct / items.length : null, mAP: aps.length ? aps.reduce((a, b) => a + b, 0) / aps.length : null, perClass, confusion: { labels: [...labels], counts: cm }, thresholdTable: rows, thresholds, curves };
}

export const DEFAULT_TABLE: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
