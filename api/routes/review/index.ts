// The reviewer's queue (docs/review-api.md): list in queue order, claim with a lease, renew, release,
// decide, confirm a trainee's decision; double-blind samples and escalations to a supervisor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ReviewConfig } from '../../../config.js';
import { isBlindSample } from '../../../domain/policy/blind-sample.js';
import { compareQueueItems } from '../../../domain/review/queue-priority.js';
import { visualCategoryOf } from '../../../domain/hs/visual-category.js';
import { hsDescription } from '../../../domain/hs/hs.js';
import type { Sql } from '../../../storage/db/sql.js';
import { declarationsRepo } from '../../../storage/repos/declarations.js';
import { reviewRepo, type ReviewState } from '../../../storage/repos/review.js';
import { scansRepo } from '../../../storage/repos/scans.js';
import { verdictsRepo } from '../../../storage/repos/verdicts.js';
import { ApiError, forbidden, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import type { QueueChanged } from '../../plugins/review-events.js';
import type { Principal } from '../../plugins/auth.js';
import { DecisionBody, QueueItem, ReviewDetail, StateAnswer, queueItemView } from './schema.js';
import { applyReviewState, nextReviewState, type Actor } from './workflow.js';
import reviewEventsRoute from './events.js';
import { nearestReferences } from './references.js';

const ScanIdParams = Type.Object({ scanId: Type.String({ maxLength: 128 }) });
const LeaseAnswer = Type.Object({ leaseExpiresAt: Type.String() });
/** Salt of the double-blind draw, so it is independent of the policy's blind-sample draw. */
const DOUBLE_BLIND_SALT = 'double-blind';

const reviewRoutes: FastifyPluginAsyncTypebox<{ db: Sql; review: ReviewConfig; imageUrls?: { secret: string; ttlSeconds: number } }> = async (app, opts) => {
  const review = reviewRepo(opts.db);
  const scans = scansRepo(opts.db);
  const verdicts = verdictsRepo(opts.db);
  const declarations = declarationsRepo(opts.db);
  const guard = app.requireRole('reviewer', 'supervisor');
  const common = { tags: ['review'], security: [{ bearer: [] }] };
  const changed = (scanId: string, state: ReviewState) => app.reviewEvents.emit('queue-changed', { type: 'queue-changed', scanId, state } satisfies QueueChanged);
  const actorOf = (p: Principal): Actor => ({
    id: p.id,
    name: p.name,
    role: p.role,
    ...(p.tier && { tier: p.tier }),
  });

  app.get(
    '/v1/review/queue',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Undecided review items in queue order: prohibited alarms, perishable, vessel closing, AEO, oldest first',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
        response: { 200: Type.Object({ items: Type.Array(QueueItem), now: Type.String() }), ...errorResponses },
      },
    },
    async (req) => {
      const now = new Date();
      const items = (await review.undecided(req.query.limit)).sort((a, b) => compareQueueItems(a.order, b.order));
      return { items: items.map((i) => queueItemView(i, now)), now: now.toISOString() };
    },
  );

  app.get(
    '/v1/review/mine',
    {
      onRequest: guard,
      schema: { ...common, summary: 'Items I hold a lease on or must confirm / resolve', response: { 200: Type.Object({ items: Type.Array(QueueItem), now: Type.String() }), ...errorResponses } },
    },
    async (req) => {
      const now = new Date();
      const p = req.principal!;
      const items = await review.mine({ id: p.id, role: p.role, ...(p.tier && { tier: p.tier }) });
      return { items: items.map((i) => queueItemView(i, now)), now: now.toISOString() };
    },
  );

  app.get(
    '/v1/review/items/:scanId',
    {
      onRequest: guard,
      schema: { ...common, summary: 'Everything a reviewer needs: scan, machine verdict, declaration, history', params: ScanIdParams, response: { 200: ReviewDetail, ...errorResponses } },
    },
    async (req) => {
      const item = await review.get(req.params.scanId);
      const scan = item && (await scans.get(item.scanId));
      if (!item || !scan) throw notFound('REVIEW_ITEM_NOT_FOUND', `no review item for scan ${req.params.scanId}`);
      const history = await verdicts.forScan(scan.scanId);
      const machine = history.find((v) => v.source === 'machine') ?? null;
      const stored = machine?.declarationId ? await declarations.get(machine.declarationId) : await declarations.forSubject(scan);
      const declaration = stored && {
        ...stored.declaration,
        version: stored.version,
        lines: stored.declaration.lines.map((l) => ({ ...l, hsDescription: hsDescription(l.hsCode) ?? null, category: visualCategoryOf(l.hsCode)?.category ?? 'unmapped' })),
      };
      const p = req.principal!;
      // Earlier decisions are shown to whoever confirms or resolves them, never to a double-blind second reviewer.
      const showDecisions = item.state === 'decided' || (item.state === 'awaiting-confirmation' && (p.role === 'supervisor' || p.tier === 'A')) || (item.state === 'escalated' && p.role === 'supervisor');
      return {
        scan: {
          scanId: scan.scanId,
          modality: scan.modality,
          subject: scan.containerNo ? { containerNo: scan.containerNo } : { waybill: scan.waybill! },
          capturedAt: scan.capturedAt,
          weightKg: scan.weightKg,
          images: scan.images.map((i) => ({ role: i.role, width: i.width, height: i.height, bitDepth: i.bitDepth })),
          rendering: scan.rendering,
        },
        verdict: machine,
        ...(declaration && { declaration }),
        history,
        item: queueItemView(item, new Date()),
        ...(showDecisions && { decisions: await review.decisions(item.scanId) }),
        references: opts.imageUrls ? nearestReferences(machine?.declaredVsSeen, opts.imageUrls) : [],
      };
    },
  );

  app.post(
    '/v1/review/items/:scanId/claim',
    {
      onRequest: guard,
      schema: { ...common, summary: 'Claim an item with a lease; exactly one of two concurrent claims wins', params: ScanIdParams, response: { 200: LeaseAnswer, ...errorResponses } },
    },
    async (req) => {
      const p = req.principal!;
      const r = await review.claim(req.params.scanId, { id: p.id, role: p.role }, opts.review.leaseMs);
      if (r.outcome === 'not-found') throw notFound('REVIEW_ITEM_NOT_FOUND', `no review item for scan ${req.params.scanId}`);
      if (r.outcome === 'taken') throw new ApiError(409, 'ALREADY_CLAIMED', `the item is claimed by ${r.claimedBy ?? 'another reviewer'}`, { claimedBy: r.claimedBy });
      if (r.outcome === 'not-claimable') throw new ApiError(409, 'NOT_CLAIMABLE', r.why, { state: r.state });
      const item = await review.get(req.params.scanId);
      changed(req.params.scanId, item!.state);
      return { leaseExpiresAt: r.leaseExpiresAt };
    },
  );

  app.post(
    '/v1/review/items/:scanId/renew',
    { onRequest: guard, schema: { ...common, summary: 'Extend my lease', params: ScanIdParams, response: { 200: LeaseAnswer, ...errorResponses } } },
    async (req) => {
      const leaseExpiresAt = await review.renew(req.params.scanId, req.principal!.id, opts.review.leaseMs);
      if (!leaseExpiresAt) throw new ApiError(409, 'LEASE_LOST', 'you no longer hold this item; claim it again');
      return { leaseExpiresAt };
    },
  );

  app.post(
    '/v1/review/items/:scanId/release',
    { onRequest: guard, schema: { ...common, summary: 'Give the item back to the queue', params: ScanIdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      if (!(await review.release(req.params.scanId, req.principal!.id))) throw new ApiError(409, 'LEASE_LOST', 'you do not hold this item');
      const item = await review.get(req.params.scanId);
      if (item) changed(item.scanId, item.state);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/review/items/:scanId/decision',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Decide an item I hold: clear | inspect | misdeclared (a trainee decision awaits confirmation; a double-blind sample awaits a second reviewer)',
        params: ScanIdParams,
        body: DecisionBody,
        response: { 200: StateAnswer, ...errorResponses },
      },
    },
    async (req) => {
      const actor = actorOf(req.principal!);
      const { decision, reason, comment, boxes = [] } = req.body;
      const out = await opts.db.transaction(async (tx) => {
        const item = await review.get(req.params.scanId, tx, true);
        if (!item) throw notFound('REVIEW_ITEM_NOT_FOUND', `no review item for scan ${req.params.scanId}`);
        if (item.claimedById !== actor.id) throw new ApiError(409, 'LEASE_LOST', 'claim the item (or claim it again) before deciding');
        if (!['open', 'awaiting-second', 'escalated'].includes(item.state)) throw new ApiError(409, 'NOT_DECIDABLE', `the item is ${item.state}`, { state: item.state });
        const resolving = item.state === 'escalated';
        if (resolving && actor.role !== 'supervisor') throw forbidden('an escalated item is decided by a supervisor');
        const earlier = await review.decisions(item.scanId, tx);
        const doubleBlind = earlier.length === 0 ? isBlindSample(item.scanId, opts.review.doubleBlindRate, DOUBLE_BLIND_SALT) : item.doubleBlind;
        const status = actor.tier === 'C' && !resolving ? 'pending-confirmation' : 'counted';
        const id = await review.addDecision(tx, { scanId: item.scanId, reviewerId: actor.id, role: actor.role, tier: actor.tier ?? null, decision, reason, ...(comment && { comment }), boxes, status });
        const all = await review.decisions(item.scanId, tx);
        const next = resolving ? { state: 'decided' as const, finalDecision: decision } : nextReviewState(all, doubleBlind);
        // A supervisor's resolution is the one decision that counts.
        const decisionsForVerdict = resolving ? all.filter((d) => d.id === id) : all;
        const verdictId = await applyReviewState(opts.db, tx, item, next, {
          actor,
          action: resolving ? 'review.resolved' : 'review.decision',
          detail: { decision, reason, tier: actor.tier ?? null, doubleBlind },
          decisions: decisionsForVerdict,
          doubleBlind,
        });
        return { state: next.state, verdictId };
      });
      changed(req.params.scanId, out.state);
      return { state: out.state, ...(out.verdictId && { verdictId: out.verdictId }) };
    },
  );

  app.post(
    '/v1/review/items/:scanId/confirm',
    {
      // The tier is checked before the body, so a tier-B/C reviewer is refused whatever they send.
      onRequest: [guard, async (req) => {
        if (req.principal!.role !== 'supervisor' && req.principal!.tier !== 'A') throw forbidden('only tier-A reviewers and supervisors confirm decisions');
      }],
      schema: {
        ...common,
        summary: "Confirm (or not) a trainee's decision: tier-A reviewers and supervisors; disagreement escalates to a supervisor",
        params: ScanIdParams,
        body: Type.Object(
          {
            agree: Type.Boolean(),
            comment: Type.Optional(Type.String({ maxLength: 2000 })),
            decisionId: Type.Optional(Type.String({ maxLength: 40, description: 'the pending decision shown to the confirmer; another one pending now answers 409 CONFIRMATION_STALE' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: StateAnswer, ...errorResponses },
      },
    },
    async (req) => {
      const actor = actorOf(req.principal!);
      const out = await opts.db.transaction(async (tx) => {
        const item = await review.get(req.params.scanId, tx, true);
        if (!item) throw notFound('REVIEW_ITEM_NOT_FOUND', `no review item for scan ${req.params.scanId}`);
        const all = await review.decisions(item.scanId, tx);
        const pending = all.find((d) => d.status === 'pending-confirmation');
        if (item.state !== 'awaiting-confirmation' || !pending) throw new ApiError(409, 'NOTHING_TO_CONFIRM', `the item is ${item.state}`, { state: item.state });
        if (pending.reviewerId === actor.id) throw forbidden('a decision is confirmed by someone else');
        // a confirmer agrees with what they saw: if another decision is pending now, they have not seen it
        if (req.body.decisionId !== undefined && req.body.decisionId !== pending.id) {
          throw new ApiError(409, 'CONFIRMATION_STALE', 'the pending decision is not the one you saw; reload the item', { pendingDecisionId: pending.id });
        }
        const status = req.body.agree ? 'counted' : 'rejected';
        await review.setDecisionStatus(tx, pending.id, status, actor.id, req.body.comment);
        const updated = all.map((d) => (d.id === pending.id ? { ...d, status: status as typeof d.status } : d));
        const next = nextReviewState(updated, item.doubleBlind);
        const verdictId = await applyReviewState(opts.db, tx, item, next, {
          actor,
          action: 'review.confirmation',
          detail: { agree: req.body.agree, decisionId: pending.id, trainee: pending.reviewer, decision: pending.decision, ...(req.body.comment && { comment: req.body.comment }) },
          decisions: updated,
        });
        return { state: next.state, verdictId };
      });
      changed(req.params.scanId, out.state);
      return { state: out.state, ...(out.verdictId && { verdictId: out.verdictId }) };
    },
  );

  await app.register(reviewEventsRoute);
};

export default reviewRoutes;
