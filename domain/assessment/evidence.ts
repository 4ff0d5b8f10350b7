// Reading model evidence: the best classifier score per label and the detections above their threshold,
// each remembering which model and version said so.
import type { Box, Evidence } from '../verdict.js';
import type { ModelEvidence } from './types.js';

export interface LabelScore {
  label: string;
  score: number;
  model: string;
  version: string;
}

export interface SeenDetection {
  label: string;
  score: number;
  box: Box;
  model: string;
  version: string;
  /** The second-stage model that confirmed it, if any. */
  verifiedBy?: string;
}

/** A score the checks can compare: anything else (NaN, a missing number) is dropped by the readers below and
 * reported by unreadableScores. */
const readable = (score: unknown): score is number => Number.isFinite(score);

/** `model: label` of every classifier score and detection the readers below drop as unreadable. */
export function unreadableScores(outputs: readonly ModelEvidence[]): string[] {
  const out = new Set<string>();
  for (const o of outputs) {
    for (const [label, score] of Object.entries(o.scores ?? {})) if (!readable(score)) out.add(`${o.model}: ${label}`);
    for (const d of o.detections ?? []) if (!readable(d.score)) out.add(`${o.model}: ${d.label}`);
  }
  return [...out];
}

/** Highest score per label over every classifier output. */
export function classifierScores(outputs: readonly ModelEvidence[]): Map<string, LabelScore> {
  const best = new Map<string, LabelScore>();
  for (const o of outputs) {
    if (!o.scores) continue;
    for (const [label, score] of Object.entries(o.scores)) {
      if (!readable(score)) continue;
      const prev = best.get(label);
      if (!prev || score > prev.score) best.set(label, { label, score, model: o.model, version: o.version });
    }
  }
  return best;
}

/** Every detection of any detector output, with its model. */
export function allDetections(outputs: readonly ModelEvidence[]): SeenDetection[] {
  return outputs.flatMap((o) =>
    (o.detections ?? [])
      .filter((d) => readable(d.score))
      .map((d) => ({ label: d.label, score: d.score, box: d.box, model: o.model, version: o.version, ...(o.verifiedBy && { verifiedBy: o.verifiedBy.model }) })),
  );
}

export function hasClassifier(outputs: readonly ModelEvidence[]): boolean {
  return outputs.some((o) => o.scores !== undefined);
}

export function hasDetector(outputs: readonly ModelEvidence[]): boolean {
  return outputs.some((o) => o.detections !== undefined);
}

/** Evidence for a reason from detections: the boxes, and the model of the strongest one. */
export function detectionEvidence(detections: readonly SeenDetection[]): Evidence {
  const strongest = [...detections].sort((a, b) => b.score - a.score)[0];
  return {
    boxes: detections.map(({ label, score, box }) => ({ label, score, box })),
    ...(strongest && { model: strongest.model, version: strongest.version }),
  };
}

/** Evidence for a reason from classifier scores. */
export function scoreEvidence(scores: readonly LabelScore[]): Evidence {
  const first = scores[0];
  return {
    scores: Object.fromEntries(scores.map((s) => [s.label, round(s.score)])),
    ...(first && { model: first.model, version: first.version }),
  };
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
