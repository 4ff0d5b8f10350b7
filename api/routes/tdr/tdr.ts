// A verdict as a DICOS-style Threat Detection Report (TDR): the alarm decision, who made it (machine,
// operator, or physical inspection as ground truth) and the threat objects with class, probability and
// bounding box in image pixels and, when the image's pixel spacing is known, in millimetres.
import { Type, type Static } from 'typebox';
import type { DicomAttributes } from '../../../pipeline/dicom.js';
import type { Scan } from '../../../storage/repos/scans.js';
import type { StoredVerdict } from '../../../storage/repos/verdicts.js';

/** DICOS Threat Detection Report Storage SOP class. */
export const TDR_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.501.3';

const Box = Type.Object(
  { x1: Type.Number(), y1: Type.Number(), x2: Type.Number(), y2: Type.Number() },
  { description: 'x to the right along columns, y down along rows; top-left corner of the image is (0, 0)' },
);

export const ThreatObject = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  class: Type.String({ description: "the detector's label, e.g. firearm, knife" }),
  probability: Type.Number({ minimum: 0, maximum: 1 }),
  reasonCode: Type.String({ description: 'the verdict reason this object belongs to, e.g. THREAT_DETECTED' }),
  layer: Type.String(),
  boundingBox: Type.Object({
    pixels: Box,
    mm: Type.Union([Box, Type.Null()], { description: 'null when the image carries no pixel spacing' }),
  }),
});

export const ThreatDetectionReport = Type.Object({
  sopClassUid: Type.String(),
  scanId: Type.String(),
  tdrType: Type.Union([Type.Literal('MACHINE'), Type.Literal('OPERATOR'), Type.Literal('GROUND_TRUTH')]),
  alarmDecision: Type.Union([Type.Literal('ALARM'), Type.Literal('CLEAR')]),
  alarmDecisionTime: Type.String(),
  decision: Type.String({ description: 'the verdict: clear, review or hold' }),
  verdictId: Type.String(),
  verdictSource: Type.String(),
  policyVersion: Type.String(),
  algorithms: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
  image: Type.Object({
    role: Type.String(),
    format: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    frames: Type.Integer(),
    pixelSpacingMm: Type.Union([Type.Object({ row: Type.Number(), column: Type.Number() }), Type.Null()]),
  }),
  totalThreatObjects: Type.Integer(),
  threatObjects: Type.Array(ThreatObject),
});
export type ThreatDetectionReport = Static<typeof ThreatDetectionReport>;

const TDR_TYPE: Record<StoredVerdict['source'], ThreatDetectionReport['tdrType']> = {
  machine: 'MACHINE',
  reviewer: 'OPERATOR',
  supervisor: 'OPERATOR',
  inspection: 'GROUND_TRUTH',
};

const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** The report of one verdict. `dicom` is the stored attributes of the scan's primary image, if DICOM. */
export function toTdr(scan: Scan, verdict: StoredVerdict, dicom: DicomAttributes | null): ThreatDetectionReport {
  const primary = scan.images.find((i) => i.role === 'image') ?? scan.images.find((i) => i.role === 'high') ?? scan.images[0]!;
  const spacing = dicom?.pixelSpacingMm ?? null;
  const seen = new Set<string>();
  const threatObjects: ThreatDetectionReport['threatObjects'] = [];
  const add = (cls: string, probability: number, reason: StoredVerdict['reasons'][number], [x1, y1, x2, y2]: readonly [number, number, number, number]) =>
    threatObjects.push({
      id: threatObjects.length + 1,
      class: cls,
      probability: r3(probability),
      reasonCode: reason.code,
      layer: reason.layer,
      boundingBox: {
        pixels: { x1, y1, x2, y2 },
        // Pixel Spacing is [row spacing, column spacing]: x runs along a row, so it scales by the column spacing.
        mm: spacing ? { x1: r3(x1 * spacing[1]), y1: r3(y1 * spacing[0]), x2: r3(x2 * spacing[1]), y2: r3(y2 * spacing[0]) } : null,
      },
    });
  // A cleared reason's boxes are goods seen as declared, not threats.
  const alarms = verdict.reasons.filter((r) => r.decision !== 'clear');
  for (const reason of alarms) {
    for (const b of reason.evidence?.boxes ?? []) {
      const key = `${b.label}:${b.box.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(b.label, b.score, reason, b.box);
    }
  }
  // A stretch of a long container that looks like an undeclared HS code (PART_LOOKS_LIKE_OTHER_CODE) is
  // reported as a full-height region of the image, so a TDR consumer can point at it like at any alarm.
  for (const reason of alarms) {
    const range = reason.evidence?.xRange;
    if (!range) continue;
    const scores = reason.evidence?.scores ?? {};
    const code = Object.keys(scores).find((k) => /^\d{2,10}$/.test(k));
    add(code ? `hs-${code}` : reason.code.toLowerCase(), code ? scores[code]! : 0, reason, [range[0], 0, range[1], primary.height]);
  }
  return {
    sopClassUid: TDR_SOP_CLASS_UID,
    scanId: scan.scanId,
    tdrType: TDR_TYPE[verdict.source],
    alarmDecision: verdict.decision === 'clear' ? 'CLEAR' : 'ALARM',
    alarmDecisionTime: verdict.at,
    decision: verdict.decision,
    verdictId: verdict.id,
    verdictSource: verdict.source,
    policyVersion: verdict.policyVersion,
    algorithms: verdict.models,
    image: {
      role: primary.role,
      format: primary.format,
      width: primary.width,
      height: primary.height,
      frames: dicom?.frames ?? 1,
      pixelSpacingMm: spacing ? { row: spacing[0], column: spacing[1] } : null,
    },
    totalThreatObjects: threatObjects.length,
    threatObjects,
  };
}
