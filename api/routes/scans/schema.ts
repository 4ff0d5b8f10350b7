// TypeBox schemas of the scan routes: the validator, the TypeScript type and the OpenAPI doc at once.
import { Type, type Static } from 'typebox';
import { MODALITIES, SCAN_STATUSES } from '../../../domain/scan.js';
import { DECISIONS } from '../../../domain/verdict.js';

export const ScanMetadata = Type.Object(
  {
    scanId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: 'chosen by the gateway; retries reuse it' }),
    scannerId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' }),
    modality: Type.Enum(MODALITIES),
    containerNo: Type.Optional(Type.String({ maxLength: 20, description: 'ISO 6346, check digit verified' })),
    waybill: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$' })),
    capturedAt: Type.String({ format: 'date-time' }),
    weightKg: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 200_000 })),
  },
  { additionalProperties: false },
);
export type ScanMetadata = Static<typeof ScanMetadata>;

export const ScanAccepted = Type.Object({
  scanId: Type.String(),
  status: Type.Enum(SCAN_STATUSES),
  statusUrl: Type.String(),
});

const ReasonSchema = Type.Object({
  code: Type.String(),
  layer: Type.String(),
  decision: Type.Enum(DECISIONS),
  detail: Type.String(),
  evidence: Type.Optional(Type.Unknown()),
});

export const VerdictSchema = Type.Object({
  id: Type.String(),
  scanId: Type.String(),
  subject: Type.Object({ containerNo: Type.Optional(Type.String()), waybill: Type.Optional(Type.String()) }),
  decision: Type.Enum(DECISIONS),
  reasons: Type.Array(ReasonSchema),
  declaredVsSeen: Type.Optional(Type.Unknown()),
  policyVersion: Type.String(),
  models: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
  runtime: Type.Optional(Type.String({ description: 'The model runtime revision that prepared the models\' inputs (present when models ran)' })),
  source: Type.String(),
  at: Type.String(),
  declarationId: Type.Optional(Type.String()),
  actions: Type.Optional(
    Type.Object({
      lock: Type.Optional(Type.Object({ containerNo: Type.String(), sealNo: Type.Optional(Type.String()) })),
      divert: Type.Optional(Type.Boolean()),
      directRelease: Type.Optional(Type.Boolean()),
      blindSample: Type.Optional(Type.Boolean()),
    }),
  ),
});

export const ScanView = Type.Object({
  scanId: Type.String(),
  status: Type.Enum(SCAN_STATUSES),
  modality: Type.String(),
  scannerId: Type.String(),
  containerNo: Type.Union([Type.String(), Type.Null()]),
  waybill: Type.Union([Type.String(), Type.Null()]),
  capturedAt: Type.String(),
  receivedAt: Type.String(),
  weightKg: Type.Union([Type.Number(), Type.Null()]),
  images: Type.Array(
    Type.Object({ role: Type.String(), format: Type.String(), width: Type.Integer(), height: Type.Integer(), bitDepth: Type.Integer(), bytes: Type.Integer() }),
  ),
  verdict: Type.Union([VerdictSchema, Type.Null()]),
  history: Type.Array(VerdictSchema),
});
