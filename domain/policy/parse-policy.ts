// Validation of a risk policy document (JSON) into a RiskPolicy: a small hand-written schema check that
// reports every problem with its path, so a bad policy is refused before it decides anything.
import { CREDIT_LEVELS, type CreditLevel } from '../declaration/declaration.js';
import type { CreditRule, ListEntry, NegativeListEntry, RiskPolicy } from './policy.js';
import defaultPolicyJson from './default-policy.json' with { type: 'json' };

export interface PolicyError {
  path: string;
  message: string;
}
export type PolicyCheck = { ok: true; policy: RiskPolicy } | { ok: false; errors: PolicyError[] };

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly errors: PolicyError[] = [];
  private fail<T>(path: string, message: string, fallback: T): T {
    this.errors.push({ path, message });
    return fallback;
  }
  record(v: unknown, path: string): Rec {
    return isRecord(v) ? v : this.fail(path, 'must be an object', {});
  }
  number(v: unknown, path: string, min: number, max: number): number {
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? v
      : this.fail(path, `must be a number from ${min} to ${max}`, min);
  }
  integer(v: unknown, path: string, min: number, max: number): number {
    const n = this.number(v, path, min, max);
    return Number.isInteger(n) ? n : this.fail(path, 'must be a whole number', min);
  }
  text(v: unknown, path: string, pattern = /^.{1,200}$/): string {
    return typeof v === 'string' && pattern.test(v) ? v : this.fail(path, `must be text matching ${pattern}`, '');
  }
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    return (values as readonly unknown[]).includes(v) ? (v as T) : this.fail(path, `must be one of ${values.join(', ')}`, values[0]!);
  }
  boolean(v: unknown, path: string): boolean {
    return typeof v === 'boolean' ? v : this.fail(path, 'must be true or false', false);
  }
  list(v: unknown, path: string): unknown[] {
    return Array.isArray(v) ? v : this.fail(path, 'must be a list', []);
  }
  unknownKeys(v: Rec, path: string, known: readonly string[]): void {
    for (const k of Object.keys(v)) if (!known.includes(k) && k !== '$comment') this.fail(`${path}.${k}`.replace(/^\./, ''), 'is not a policy field', 0);
  }
}

const HS_PREFIX = /^[0-9]{2,10}$/;

function listEntry(r: Reader, v: unknown, path: string): ListEntry {
  const o = r.record(v, path);
  const hsPrefix = r.text(o.hsPrefix, `${path}.hsPrefix`, HS_PREFIX);
  return o.note === undefined ? { hsPrefix } : { hsPrefix, note: r.text(o.note, `${path}.note`) };
}

/** Validates a policy document; unknown fields are refused so a typo never silently falls back. */
export function parsePolicy(json: unknown): PolicyCheck {
  const r = new Reader();
  const root = r.record(json, '');
  r.unknownKeys(root, '', ['version', 'security', 'manifest', 'declaration', 'creditLevels', 'positiveList', 'negativeList', 'blindSample']);
  const version = r.text(root.version, 'version', /^[A-Za-z0-9._:-]{1,64}$/);

  const sec = r.record(root.security, 'security');
  r.unknownKeys(sec, 'security', ['threatThresholds', 'defaultThreatThreshold', 'holdThreshold', 'modelThreatThresholds']);
  const thresholds = r.record(sec.threatThresholds, 'security.threatThresholds');
  const threatThresholds: Record<string, number> = {};
  for (const [label, v] of Object.entries(thresholds)) {
    threatThresholds[label] = r.number(v, `security.threatThresholds.${label}`, 0, 1);
  }
  const modelThreatThresholds: Record<string, Record<string, number>> = {};
  if (sec.modelThreatThresholds !== undefined) {
    for (const [model, byLabel] of Object.entries(r.record(sec.modelThreatThresholds, 'security.modelThreatThresholds'))) {
      const path = `security.modelThreatThresholds.${model}`;
      modelThreatThresholds[model] = Object.fromEntries(Object.entries(r.record(byLabel, path)).map(([label, v]) => [label, r.number(v, `${path}.${label}`, 0, 1)]));
    }
  }

  const man = r.record(root.manifest, 'manifest');
  r.unknownKeys(man, 'manifest', ['emptyThreshold', 'weightTolerancePct', 'emptyContainerToleranceKg']);
  const dec = r.record(root.declaration, 'declaration');
  r.unknownKeys(dec, 'declaration', [
    'categoryPresenceThreshold', 'declaredPresenceThreshold', 'itemCountThreshold', 'undeclaredShare', 'maxDeclaredKindsChecked', 'parcelCountTolerance', 'parcelUndercountTolerance', 'parcelUncountedItems', 'unrecognisableGoods',
  ]);

  const credit = r.record(root.creditLevels, 'creditLevels');
  r.unknownKeys(credit, 'creditLevels', CREDIT_LEVELS);
  const creditLevels = {} as Record<CreditLevel, CreditRule>;
  for (const level of CREDIT_LEVELS) {
    const rule = r.record(credit[level], `creditLevels.${level}`);
    r.unknownKeys(rule, `creditLevels.${level}`, ['alwaysReview', 'directRelease']);
    creditLevels[level] = {
      alwaysReview: r.boolean(rule.alwaysReview, `creditLevels.${level}.alwaysReview`),
      directRelease: r.oneOf(rule.directRelease, `creditLevels.${level}.directRelease`, ['single-low-risk', 'positive-list', 'never']),
    };
  }
  if (isRecord(credit.dishonest) && credit.dishonest.alwaysReview === false) {
    r.errors.push({ path: 'creditLevels.dishonest.alwaysReview', message: 'dishonest enterprises are always reviewed' });
  }

  const positiveList = r.list(root.positiveList, 'positiveList').map((v, i) => listEntry(r, v, `positiveList[${i}]`));
  const negativeList: NegativeListEntry[] = r.list(root.negativeList, 'negativeList').map((v, i) => ({
    ...listEntry(r, v, `negativeList[${i}]`),
    decision: r.oneOf(r.record(v, `negativeList[${i}]`).decision, `negativeList[${i}].decision`, ['review', 'hold']),
  }));

  const blind = r.record(root.blindSample, 'blindSample');
  r.unknownKeys(blind, 'blindSample', ['rate', 'salt']);

  const policy: RiskPolicy = {
    version,
    security: {
      threatThresholds,
      modelThreatThresholds,
      defaultThreatThreshold: r.number(sec.defaultThreatThreshold, 'security.defaultThreatThreshold', 0, 1),
      holdThreshold: sec.holdThreshold === undefined ? 0 : r.number(sec.holdThreshold, 'security.holdThreshold', 0, 1),
    },
    manifest: {
      emptyThreshold: r.number(man.emptyThreshold, 'manifest.emptyThreshold', 0, 1),
      weightTolerancePct: r.number(man.weightTolerancePct, 'manifest.weightTolerancePct', 0, 100),
      emptyContainerToleranceKg: r.number(man.emptyContainerToleranceKg, 'manifest.emptyContainerToleranceKg', 0, 10_000),
    },
    declaration: {
      categoryPresenceThreshold: r.number(dec.categoryPresenceThreshold, 'declaration.categoryPresenceThreshold', 0, 1),
      declaredPresenceThreshold: r.number(dec.declaredPresenceThreshold ?? dec.categoryPresenceThreshold, 'declaration.declaredPresenceThreshold', 0, 1),
      itemCountThreshold: r.number(dec.itemCountThreshold ?? dec.categoryPresenceThreshold, 'declaration.itemCountThreshold', 0, 1),
      undeclaredShare: r.number(dec.undeclaredShare, 'declaration.undeclaredShare', 0, 1),
      maxDeclaredKindsChecked: r.integer(dec.maxDeclaredKindsChecked, 'declaration.maxDeclaredKindsChecked', 0, 100),
      parcelCountTolerance: r.integer(dec.parcelCountTolerance, 'declaration.parcelCountTolerance', 0, 1000),
      parcelUndercountTolerance: dec.parcelUndercountTolerance === undefined ? 0 : r.integer(dec.parcelUndercountTolerance, 'declaration.parcelUndercountTolerance', 0, 1000),
      parcelUncountedItems: dec.parcelUncountedItems === undefined ? [] : r.list(dec.parcelUncountedItems, 'declaration.parcelUncountedItems').map((v, i) => r.text(v, `declaration.parcelUncountedItems[${i}]`)),
      unrecognisableGoods: r.oneOf(dec.unrecognisableGoods, 'declaration.unrecognisableGoods', ['review', 'clear']),
    },
    creditLevels,
    positiveList,
    negativeList,
    blindSample: {
      rate: r.number(blind.rate, 'blindSample.rate', 0, 1),
      salt: blind.salt === undefined || blind.salt === '' ? '' : r.text(blind.salt, 'blindSample.salt'),
    },
  };
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, policy };
}

/** The policy shipped with the project; parsing it is tested, so this never throws in practice. */
export function defaultPolicy(): RiskPolicy {
  const check = parsePolicy(defaultPolicyJson);
  if (!check.ok) throw new Error(`default-policy.json is invalid: ${check.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  return check.policy;
}
