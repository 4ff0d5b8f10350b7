// TypeBox schemas of the review routes (docs/review-api.md): queue items, the review detail, decisions.
import { Type } from 'typebox';
import { VerdictSchema } from '../scans/schema.js';
import type { ReviewItem } from '../../../storage/repos/review.js';

const BoxSchema = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], { description: '[x1, y1, x2, y2] in rendering pixels' });

export const QueueItem = Type.Object({
  scanId: Type.String(),
  modality: Type.String(),
  subject: Type.Object({ containerNo: Type.Optional(Type.String()), waybill: Type.Optional(Type.String()) }),
  decision: Type.String({ description: "the machine's decision" }),
  reasons: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() })),
  badges: Type.Array(Type.Union([Type.Literal('prohibited'), Type.Literal('perishable'), Type.Literal('vessel-cutoff'), Type.Literal('aeo')])),
  receivedAt: Type.String(),
  enqueuedAt: Type.String(),
  slaDeadline: Type.String(),
  overdue: Type.Boolean(),
  state: Type.String(),
  claimedBy: Type.Optional(Type.String()),
  leaseExpiresAt: Type.Optional(Type.String()),
});

export function queueItemView(item: ReviewItem, now: Date) {
  return {
    scanId: item.scanId,
    modality: item.modality,
    subject: item.subject,
    decision: item.decision,
    reasons: item.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    badges: item.badges,
    receivedAt: item.receivedAt,
    enqueuedAt: item.enqueuedAt,
    slaDeadline: item.slaDeadline,
    overdue: item.state !== 'decided' && Date.parse(item.slaDeadline) < now.getTime(),
    state: item.state,
    ...(item.claimedBy && { claimedBy: item.claimedBy }),
    ...(item.leaseExpiresAt && { leaseExpiresAt: item.leaseExpiresAt }),
  };
}

export const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('clear'), Type.Literal('inspect'), Type.Literal('misdeclared')]),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    boxes: Type.Optional(Type.Array(Type.Object({ label: Type.String({ minLength: 1, maxLength: 64 }), box: BoxSchema }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);

export const StateAnswer = Type.Object({ state: Type.String(), verdictId: Type.Optional(Type.String()) });

export const ReviewDetail = Type.Object({
  scan: Type.Object({
    scanId: Type.String(),
    modality: Type.String(),
    subject: Type.Object({ containerNo: Type.Optional(Type.String()), waybill: Type.Optional(Type.String()) }),
    capturedAt: Type.String(),
    weightKg: Type.Union([Type.Number(), Type.Null()]),
    images: Type.Array(Type.Object({ role: Type.String(), width: Type.Integer(), height: Type.Integer(), bitDepth: Type.Integer() })),
    rendering: Type.Union([Type.Object({ width: Type.Integer(), height: Type.Integer(), channels: Type.Integer() }), Type.Null()]),
  }),
  verdict: Type.Union([VerdictSchema, Type.Null()]),
  declaration: Type.Optional(Type.Unknown()),
  history: Type.Array(VerdictSchema),
  item: QueueItem,
  /** Shown only to whoever must confirm or resolve: hidden from a double-blind second reviewer. */
  decisions: Type.Optional(Type.Array(Type.Unknown())),
  references: Type.Array(Type.Unknown()),
});
