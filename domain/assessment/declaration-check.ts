// Layer 3, declaration check (报关单智审): does what is seen match the declared goods? Containers:
// categories, their shares and number of kinds; parcels: items counted against declared quantities.
import { CARGO_CATEGORIES, PARCEL_ITEMS, PARCEL_PROHIBITED, PARCEL_RESTRICTED } from '../categories.js';
import type { Reason } from '../verdict.js';
import { isCountableUnit, type Declaration } from '../declaration/declaration.js';
import { isRecognisable, visualCategoryOf, type VisualCategory } from '../hs/visual-category.js';
import type { RiskPolicy } from '../policy/policy.js';
import { detectionEvidence, round, scoreEvidence, type LabelScore, type SeenDetection } from './evidence.js';
import type { DeclaredGoods, DeclaredVsSeen } from './types.js';

export function declaredGoods(declaration: Declaration | undefined): DeclaredGoods[] {
  return (declaration?.lines ?? []).map((line) => {
    const visual = visualCategoryOf(line.hsCode);
    return {
      hsCode: line.hsCode,
      description: line.description,
      category: visual?.category ?? 'unmapped',
      lowRisk: visual?.lowRisk ?? false,
      quantity: line.quantity,
      unit: line.unit,
      ...(visual?.parcelItem && { parcelItem: visual.parcelItem }),
    };
  });
}

const isVisual = (c: DeclaredGoods['category']): c is VisualCategory => c !== 'unmapped';

function unrecognisableReason(goods: readonly DeclaredGoods[], what: string): Reason {
  const list = goods.map((g) => `${g.hsCode} (${g.description})`).join(', ');
  return {
    code: 'GOODS_NOT_RECOGNISABLE',
    layer: 'declaration',
    decision: 'review',
    detail: `The image cannot confirm ${goods.length === 1 ? 'this declared line' : `${goods.length} declared lines`}: ${list} (${what}).`,
  };
}

export interface DeclarationFindings {
  reasons: Reason[];
  seen: DeclaredVsSeen['seen'];
  undeclared: DeclaredVsSeen['undeclared'];
  notSeen: string[];
  counts?: DeclaredVsSeen['counts'];
}

/** Containers: classifier categories against the declared lines' visual categories. */
export function containerDeclarationCheck(
  goods: readonly DeclaredGoods[],
  scores: ReadonlyMap<string, LabelScore>,
  policy: RiskPolicy,
): DeclarationFindings {
  const reasons: Reason[] = [];
  const { categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, maxDeclaredKindsChecked } = policy.declaration;
  const declaredCategories = new Set(goods.map((g) => g.category).filter(isVisual));
  // a declared category counts as seen on less evidence than an undeclared one is raised on
  const present = CARGO_CATEGORIES.filter((c) => c !== 'empty')
    .map((c) => scores.get(c))
    .filter((s): s is LabelScore => s !== undefined && s.score >= (declaredCategories.has(s.label as VisualCategory) ? declaredPresenceThreshold : categoryPresenceThreshold));
  const total = present.reduce((sum, s) => sum + s.score, 0);
  const seen = present.map((s) => ({ category: s.label, score: round(s.score), share: round(s.score / total) }));

  const undeclaredScores = present.filter((s) => !declaredCategories.has(s.label as VisualCategory));
  const undeclaredTotal = undeclaredScores.reduce((sum, s) => sum + s.score, 0) / (total || 1);
  const undeclared = undeclaredScores.map((s) => ({ category: s.label, share: round(s.score / total) }));
  if (undeclared.length > 0 && undeclaredTotal >= undeclaredShare) {
    for (const s of undeclaredScores) {
      reasons.push({
        code: 'UNDECLARED_CATEGORY',
        layer: 'declaration',
        decision: 'review',
        detail: `Seen ${s.label}, about ${Math.round((s.score / total) * 100)}% of what is seen, but no line declares it.`,
        evidence: scoreEvidence([s]),
      });
    }
  }

  const notSeen = [...declaredCategories].filter((c) => isRecognisable(c) && !present.some((s) => s.label === c));
  for (const category of notSeen) {
    const lines = goods.filter((g) => g.category === category).map((g) => g.hsCode);
    const s = scores.get(category);
    reasons.push({
      code: 'DECLARED_NOT_SEEN',
      layer: 'declaration',
      decision: 'review',
      detail: `Declared ${category} (${lines.join(', ')}) but the image does not show it${s ? ` (score ${round(s.score, 2)})` : ''}.`,
      ...(s && { evidence: scoreEvidence([s]) }),
    });
  }

  const declaredKinds = new Set(goods.map((g) => g.hsCode.slice(0, 6))).size;
  if (declaredKinds > 0 && declaredKinds <= maxDeclaredKindsChecked && present.length > declaredKinds) {
    reasons.push({
      code: 'MORE_KINDS_THAN_DECLARED',
      layer: 'declaration',
      decision: 'review',
      detail: `${present.length} kinds of goods seen (${present.map((s) => s.label).join(', ')}) but ${declaredKinds} declared; look for goods hidden behind or inside.`,
      evidence: scoreEvidence(present),
    });
  }

  const unrecognisable = goods.filter((g) => !isVisual(g.category) || !isRecognisable(g.category));
  if (unrecognisable.length > 0 && policy.declaration.unrecognisableGoods === 'review') {
    reasons.push(unrecognisableReason(unrecognisable, 'no image class for these goods'));
  }
  return { reasons, seen, undeclared, notSeen };
}

const isOrdinaryItem = (label: string): boolean =>
  (PARCEL_ITEMS as readonly string[]).includes(label) &&
  !(PARCEL_PROHIBITED as readonly string[]).includes(label) &&
  !(PARCEL_RESTRICTED as readonly string[]).includes(label);

/** Parcels: items the detector counted against declared quantities of the same items. */
export function parcelDeclarationCheck(
  goods: readonly DeclaredGoods[],
  detections: readonly SeenDetection[],
  policy: RiskPolicy,
): DeclarationFindings {
  const reasons: Reason[] = [];
  const items = detections.filter((d) => isOrdinaryItem(d.label) && d.score >= policy.declaration.itemCountThreshold);
  const counted = new Map<string, SeenDetection[]>();
  for (const d of items) counted.set(d.label, [...(counted.get(d.label) ?? []), d]);

  const declared = new Map<string, number>();
  const uncountable: DeclaredGoods[] = [];
  for (const g of goods) {
    if (g.parcelItem && isCountableUnit(g.unit)) declared.set(g.parcelItem, (declared.get(g.parcelItem) ?? 0) + g.quantity);
    else uncountable.push(g);
  }
  const declaredItems = new Set(goods.map((g) => g.parcelItem).filter((i): i is string => i !== undefined));

  const counts: NonNullable<DeclaredVsSeen['counts']> = [];
  for (const [item, quantity] of declared) {
    const found = counted.get(item) ?? [];
    counts.push({ item, declared: quantity, seen: found.length });
    const over = found.length - quantity;
    const accepted = over >= 0
      ? over <= policy.declaration.parcelCountTolerance
      : policy.declaration.parcelUncountedItems.includes(item) || (found.length > 0 && -over <= policy.declaration.parcelUndercountTolerance);
    if (!accepted) {
      reasons.push({
        code: 'COUNT_MISMATCH',
        layer: 'declaration',
        decision: 'review',
        detail: `Declared ${quantity} × ${item}, counted ${found.length}.`,
        ...(found.length > 0 && { evidence: detectionEvidence(found) }),
      });
    }
  }

  const undeclared: DeclaredVsSeen['undeclared'] = [];
  for (const [item, found] of counted) {
    if (declaredItems.has(item)) continue;
    undeclared.push({ category: item, share: round(found.length / items.length) });
    reasons.push({
      code: 'UNDECLARED_CATEGORY',
      layer: 'declaration',
      decision: 'review',
      detail: `Counted ${found.length} × ${item} that no line declares.`,
      evidence: detectionEvidence(found),
    });
  }

  if (uncountable.length > 0 && policy.declaration.unrecognisableGoods === 'review') {
    reasons.push(unrecognisableReason(uncountable, 'no countable parcel item for these goods'));
  }
  const notSeen = [...declared].filter(([item]) => !counted.has(item)).map(([item]) => item);
  const seen = [...counted].map(([item, found]) => ({
    category: item,
    score: round(Math.max(...found.map((d) => d.score))),
    share: round(found.length / items.length),
  }));
  return { reasons, seen, undeclared, notSeen, counts };
}
