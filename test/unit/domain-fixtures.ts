// Plain values shared by the domain unit tests: valid container numbers, declarations and model outputs.
import { iso6346CheckDigit } from '../../domain/iso6346.js';
import type { Declaration, DeclarationLine } from '../../domain/declaration/declaration.js';

export function containerNo(owner = 'TWDU', serial = 123456): string {
  const first10 = `${owner}${String(serial).padStart(6, '0')}`;
  return `${first10}${iso6346CheckDigit(first10)}`;
}

export function line(hsCode: string, over: Partial<DeclarationLine> = {}): DeclarationLine {
  return { hsCode, description: 'goods', quantity: 100, unit: 'pcs', grossKg: 10_000, ...over };
}

export function containerDeclaration(over: Partial<Declaration> = {}): Declaration {
  return {
    declarationId: 'D-1',
    containers: [{ containerNo: containerNo(), sealNo: 'SEAL123', tareKg: 3_800 }],
    waybills: [],
    lines: [line('4011100000', { description: 'car tyres', grossKg: 12_000 })],
    enterprise: { id: 'E-1', creditLevel: 'ordinary' },
    perishable: false,
    ...over,
  };
}

export function parcelDeclaration(over: Partial<Declaration> = {}): Declaration {
  return {
    declarationId: 'P-1',
    containers: [],
    waybills: ['SF1234567890'],
    lines: [line('6109100000', { description: 'T-shirts', quantity: 3, grossKg: 0.6 })],
    enterprise: { id: 'E-2', creditLevel: 'ordinary' },
    perishable: false,
    ...over,
  };
}

import type { AssessmentInput, ModelEvidence } from '../../domain/assessment/types.js';
import type { Box } from '../../domain/verdict.js';
import type { RiskPolicy } from '../../domain/policy/policy.js';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';

/** The default policy without blind sampling, so table tests do not depend on which scan ids are drawn. */
export function testPolicy(over: (p: RiskPolicy) => void = () => undefined): RiskPolicy {
  const p = defaultPolicy();
  p.blindSample.rate = 0;
  over(p);
  return p;
}

export function classifier(scores: Record<string, number>): ModelEvidence {
  return { model: 'cargo-cls', version: '1.0.0', task: 'classify', scores };
}

export function detector(detections: Array<[label: string, score: number]>, model = 'threat-det'): ModelEvidence {
  return {
    model,
    version: '1.0.0',
    task: 'detect',
    detections: detections.map(([label, score], i) => ({ label, score, box: [10 * i, 10, 10 * i + 50, 60] as Box })),
  };
}

/** A clean container scan of the fixture declaration (car tyres, tare 3,800 kg, gross 12,000 kg). */
export function containerScan(over: Partial<AssessmentInput> = {}): AssessmentInput {
  return {
    scanId: 'scan-1',
    modality: 'container-xray',
    subject: { containerNo: containerNo() },
    weightKg: 15_900,
    declaration: containerDeclaration(),
    modelOutputs: [classifier({ empty: 0.02, tyres: 0.95, 'iron-steel': 0.1 }), detector([])],
    ...over,
  };
}

export function parcelScan(over: Partial<AssessmentInput> = {}): AssessmentInput {
  return {
    scanId: 'parcel-1',
    modality: 'parcel-ct',
    subject: { waybill: 'SF1234567890' },
    declaration: parcelDeclaration(),
    modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.85], ['clothes', 0.8]], 'parcel-det')],
    ...over,
  };
}
