// Layer 1, security admission (安全准入): threats and prohibited items anywhere in the image, and declared
// goods on the negative list. Runs whatever the declaration says, and before anything else.
import { CONTAINER_THREATS, PARCEL_PROHIBITED, PARCEL_RESTRICTED } from '../categories.js';
import type { Modality } from '../scan.js';
import type { Reason } from '../verdict.js';
import type { Declaration } from '../declaration/declaration.js';
import { matchHsList, threatThreshold, type RiskPolicy } from '../policy/policy.js';
import { detectionEvidence, round, type SeenDetection } from './evidence.js';

function groupByLabel(detections: readonly SeenDetection[]): Map<string, SeenDetection[]> {
  const groups = new Map<string, SeenDetection[]>();
  for (const d of detections) groups.set(d.label, [...(groups.get(d.label) ?? []), d]);
  return groups;
}

function places(n: number): string {
  return n === 1 ? '1 place' : `${n} places`;
}

/**
 * Threat classes that are lawful goods when declared under these HS headings: a container declared as
 * cigarettes (2402) or kitchen knives (8211) shows exactly that. When every line is such goods, a detection of
 * that class is the declared goods, not a concealment; when they are declared among other goods, a reviewer
 * looks (THREAT_OF_DECLARED_KIND). The negative list still applies to the declared code (2402 → review as
 * licensed goods, 93 → hold), so nothing is cleared that the policy reviews.
 */
export const DECLARED_THREAT_HEADINGS: Readonly<Record<string, readonly string[]>> = {
  cigarettes: ['2402', '2403'],
  knife: ['8211', '8214', '8215'],
  firearm: ['9301', '9302', '9303', '9304'],
  ammunition: ['9306'],
  currency: ['4907'],
};

/**
 * How a threat class stands in the declaration: `only` when every line is goods of that kind (a box of kitchen
 * knives: a knife seen is the goods), `among` when some lines are and others are not (furniture and 100 kg of
 * cutlery: a knife seen may be the cutlery or hidden in the furniture, so a reviewer looks), null when none is.
 */
function declaredAs(label: string, declaration: Declaration | undefined): 'only' | 'among' | null {
  const headings = DECLARED_THREAT_HEADINGS[label];
  const lines = declaration?.lines ?? [];
  if (!headings || lines.length === 0) return null;
  const of = lines.filter((l) => headings.some((h) => l.hsCode.startsWith(h))).length;
  return of === 0 ? null : of === lines.length ? 'only' : 'among';
}

/** The models whose per-model thresholds apply to a detection, most specific first. */
function modelsOf(d: SeenDetection): string[] {
  return d.verifiedBy ? [d.verifiedBy, d.model] : [d.model];
}

function counts(policy: RiskPolicy, d: SeenDetection): boolean {
  return d.score >= threatThreshold(policy, d.label, modelsOf(d));
}

/** A threat holds at once when one of its detections (each already over its own threshold) reaches the hold threshold. */
function isHeld(policy: RiskPolicy, found: readonly SeenDetection[]): boolean {
  return found.some((d) => d.score >= policy.security.holdThreshold);
}

export function securityReasons(
  modality: Modality,
  detections: readonly SeenDetection[],
  declaration: Declaration | undefined,
  policy: RiskPolicy,
): Reason[] {
  const reasons: Reason[] = [];
  const above = detections.filter((d) => counts(policy, d));

  if (modality === 'container-xray') {
    const seen = above.filter((d) => (CONTAINER_THREATS as readonly string[]).includes(d.label));
    const threats = seen.filter((d) => declaredAs(d.label, declaration) === null);
    for (const [label, found] of groupByLabel(seen.filter((d) => declaredAs(d.label, declaration) === 'among'))) {
      reasons.push({
        code: 'THREAT_OF_DECLARED_KIND',
        layer: 'security',
        decision: 'review',
        detail: `Possible ${label} seen in ${places(found.length)} (score up to ${round(Math.max(...found.map((d) => d.score)), 2)}); goods of that kind are declared among others, so a reviewer checks it is where the declared goods are.`,
        evidence: detectionEvidence(found),
      });
    }
    for (const [label, found] of groupByLabel(threats)) {
      const top = Math.max(...found.map((d) => d.score));
      const held = isHeld(policy, found);
      reasons.push({
        code: held ? 'THREAT_DETECTED' : 'THREAT_SUSPECTED',
        layer: 'security',
        decision: held ? 'hold' : 'review',
        detail: held
          ? `Possible ${label} seen in ${places(found.length)} (score up to ${round(top, 2)}); the container is held for opening.`
          : `Possible ${label} seen in ${places(found.length)} (score up to ${round(top, 2)}, below the hold threshold ${round(policy.security.holdThreshold, 2)}); a reviewer decides whether to hold it.`,
        evidence: detectionEvidence(found),
      });
    }
  } else {
    const prohibited = above.filter((d) => (PARCEL_PROHIBITED as readonly string[]).includes(d.label));
    for (const [label, found] of groupByLabel(prohibited)) {
      const top = Math.max(...found.map((d) => d.score));
      const held = isHeld(policy, found);
      const times = found.length === 1 ? 'once' : `${found.length} times`;
      reasons.push({
        code: held ? 'PROHIBITED_ITEM' : 'PROHIBITED_ITEM_SUSPECTED',
        layer: 'security',
        decision: held ? 'hold' : 'review',
        detail: held
          ? `Prohibited item (${label}) seen ${times}; the parcel is taken off the line for opening.`
          : `Possible prohibited item (${label}) seen ${times} (score up to ${round(top, 2)}, below the hold threshold ${round(policy.security.holdThreshold, 2)}); a reviewer decides.`,
        evidence: detectionEvidence(found),
      });
    }
    const restricted = above.filter((d) => (PARCEL_RESTRICTED as readonly string[]).includes(d.label));
    for (const [label, found] of groupByLabel(restricted)) {
      reasons.push({
        code: 'RESTRICTED_ITEM',
        layer: 'security',
        decision: 'review',
        detail: `Restricted item (${label}) seen ${found.length === 1 ? 'once' : `${found.length} times`}; a reviewer checks it is allowed.`,
        evidence: detectionEvidence(found),
      });
    }
  }

  for (const line of declaration?.lines ?? []) {
    const entry = matchHsList(line.hsCode, policy.negativeList);
    if (!entry) continue;
    reasons.push({
      code: 'NEGATIVE_LIST',
      layer: 'security',
      decision: entry.decision,
      detail: `Declared goods ${line.hsCode} (${line.description}) are on the negative list${entry.note ? `: ${entry.note}` : ''}.`,
    });
  }
  return reasons;
}
