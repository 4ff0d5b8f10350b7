// Layer 2, manifest check (舱单智审), containers only: empty when declared empty and loaded when declared
// loaded; measured weight against tare (the declaration's, else the container register's) plus declared gross.
import type { Reason } from '../verdict.js';
import { declaredContainer, declaredGrossKg, isDeclaredEmpty, type Declaration } from '../declaration/declaration.js';
import type { RiskPolicy } from '../policy/policy.js';
import { round, scoreEvidence, type LabelScore } from './evidence.js';
import type { DeclaredVsSeen } from './types.js';

export interface ManifestFindings {
  reasons: Reason[];
  weight?: DeclaredVsSeen['weight'];
  /** Whether the image shows an empty container (undefined when no classifier ran). */
  seenEmpty?: boolean;
}

/** The classifier's strongest cargo kind (any label but `empty`), the evidence that a box is loaded. */
export function strongestCargo(scores: ReadonlyMap<string, LabelScore>): LabelScore | undefined {
  let best: LabelScore | undefined;
  for (const s of scores.values()) if (s.label !== 'empty' && (!best || s.score > best.score)) best = s;
  return best;
}

export function manifestCheck(
  containerNo: string | undefined,
  declaration: Declaration,
  emptyScore: LabelScore | undefined,
  weightKg: number | undefined,
  policy: RiskPolicy,
  registeredTareKg?: number,
  cargoScore?: LabelScore,
  /** Whether a classifier ran (without one, MODEL_UNAVAILABLE already says the manifest was not checked). */
  classified = true,
): ManifestFindings {
  const reasons: Reason[] = [];
  const declaredEmpty = isDeclaredEmpty(declaration);
  const seenEmpty = emptyScore ? emptyScore.score >= policy.manifest.emptyThreshold : undefined;

  // A box declared empty is let through only on an empty score: without one (a classifier that has no `empty`
  // label, or gave no number for it), nothing says it is empty, and the declaration check has no goods to compare.
  if (declaredEmpty && !emptyScore && classified) {
    reasons.push({
      code: 'MANIFEST_NOT_CHECKED',
      layer: 'manifest',
      decision: 'review',
      detail: 'Declared empty, but no model gave an empty score: whether the box is empty was not checked.',
    });
  }

  if (emptyScore && seenEmpty !== undefined && seenEmpty !== declaredEmpty) {
    reasons.push({
      code: 'MANIFEST_EMPTY_MISMATCH',
      layer: 'manifest',
      // Goods in a box declared empty is the classic smuggling route; an empty box declared loaded is a paper problem.
      decision: declaredEmpty ? 'hold' : 'review',
      detail: declaredEmpty
        ? `Declared empty but the image shows cargo (empty score ${round(emptyScore.score, 2)}).`
        : `Declared with ${declaration.lines.length} line(s) of goods but the image shows an empty container (empty score ${round(emptyScore.score, 2)}).`,
      evidence: scoreEvidence([emptyScore]),
    });
  }
  // The classifier scores each label on its own, so a box can read as both empty and loaded: a floor of steel
  // plates (empty 0.65, iron-steel 0.97) and an empty reefer's machinery end (0.67, 0.98) read alike. A box
  // declared empty that also shows a cargo kind as surely as the declaration check needs to call it present is
  // not let through on its empty score: a reviewer looks (a hold would lock every such empty reefer).
  if (emptyScore && declaredEmpty && seenEmpty === true && cargoScore && cargoScore.score >= policy.declaration.categoryPresenceThreshold) {
    reasons.push({
      code: 'MANIFEST_EMPTY_UNCERTAIN',
      layer: 'manifest',
      decision: 'review',
      detail: `Declared empty; the image reads as empty (score ${round(emptyScore.score, 2)}) but also shows ${cargoScore.label} (score ${round(cargoScore.score, 2)}).`,
      evidence: scoreEvidence([emptyScore, cargoScore]),
    });
  }

  if (weightKg === undefined) return { reasons, ...(seenEmpty !== undefined && { seenEmpty }) };

  const container = declaredContainer(declaration, containerNo);
  const grossKg = declaredGrossKg(declaration);
  const weight: NonNullable<DeclaredVsSeen['weight']> = { measuredKg: weightKg, declaredGrossKg: round(grossKg) };
  // the declaration's own tare first; the register's completes a declaration that gives none for this box
  const tare =
    container?.tareKg !== undefined
      ? { tareKg: container.tareKg, tareSource: 'declaration' as const }
      : container && registeredTareKg !== undefined
        ? { tareKg: registeredTareKg, tareSource: 'register' as const }
        : undefined;
  if (!tare) {
    weight.notChecked = 'no tare weight for this container (neither in the declaration nor in the container register)';
  } else if (!declaredEmpty && declaration.containers.length > 1) {
    Object.assign(weight, tare);
    weight.notChecked = 'the declared gross weight is shared by several containers';
  } else {
    const { tareKg, tareSource } = tare;
    const expectedKg = tareKg + grossKg;
    const deviationPct = ((weightKg - expectedKg) / expectedKg) * 100;
    Object.assign(weight, { tareKg, tareSource, expectedKg: round(expectedKg), deviationPct: round(deviationPct, 1) });
    if (declaredEmpty && weightKg > tareKg + policy.manifest.emptyContainerToleranceKg) {
      reasons.push({
        code: 'EMPTY_CONTAINER_OVERWEIGHT',
        layer: 'manifest',
        decision: 'hold',
        detail: `Declared empty but weighs ${weightKg} kg against a tare of ${tareKg} kg${tareSource === 'register' ? ' (container register)' : ''} (${round(weightKg - tareKg)} kg too heavy).`,
      });
    } else if (!declaredEmpty && Math.abs(deviationPct) > policy.manifest.weightTolerancePct) {
      reasons.push({
        code: 'WEIGHT_MISMATCH',
        layer: 'manifest',
        decision: 'review',
        detail: `Weighs ${weightKg} kg; tare ${tareKg} kg${tareSource === 'register' ? ' (container register)' : ''} plus declared gross ${round(grossKg)} kg is ${round(expectedKg)} kg (${deviationPct > 0 ? '+' : ''}${round(deviationPct, 1)}%, tolerance ${policy.manifest.weightTolerancePct}%).`,
      });
    }
  }
  return { reasons, weight, ...(seenEmpty !== undefined && { seenEmpty }) };
}
