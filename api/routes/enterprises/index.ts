// Enterprise (shipper) records for risk control: the credit level customs holds for the enterprise and a
// summary of what recently happened to its shipments (verdict events by source and decision, inspection
// results). Risk control (or an admin) sets the level with a reason; the change is in the audit chain and,
// from then on, declarations no longer change it and the assessment uses it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CREDIT_LEVELS } from '../../../domain/declaration/declaration.js';
import type { Sql } from '../../../storage/db/sql.js';
import { auditRepo } from '../../../storage/repos/audit.js';
import { enterprisesRepo } from '../../../storage/repos/enterprises.js';
import { notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

const Count = Type.Integer({ minimum: 0 });
const DecisionCounts = Type.Object({ clear: Count, review: Count, hold: Count });

const EnterpriseView = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  creditLevel: Type.Enum(CREDIT_LEVELS),
  creditSource: Type.Union([Type.Literal('declaration'), Type.Literal('risk-control')], {
    description: "declaration: the newest declaration's level; risk-control: set by risk control (declarations no longer change it)",
  }),
  reason: Type.Union([Type.String(), Type.Null()], { description: "risk control's reason for the level" }),
  updatedBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const EnterpriseAnswer = Type.Object({
  enterprise: EnterpriseView,
  summary: Type.Object({
    since: Type.String(),
    days: Type.Integer(),
    declarations: Type.Integer({ description: 'declarations first filed in the period' }),
    scans: Type.Integer({ description: 'scans with a verdict event in the period' }),
    verdicts: Type.Object({ machine: DecisionCounts, reviewer: DecisionCounts, supervisor: DecisionCounts, inspection: DecisionCounts }),
    inspections: Type.Object({ nothing: Count, 'undeclared-goods': Count, 'prohibited-item': Count, 'quantity-difference': Count, total: Count }),
  }),
});

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const enterpriseRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const enterprises = enterprisesRepo(opts.db);
  const audit = auditRepo(opts.db);

  app.get(
    '/v1/enterprises/:id',
    {
      onRequest: app.requireRole('risk-control', 'supervisor', 'admin'),
      schema: {
        summary: "An enterprise's record: credit level and a summary of its recent verdicts and inspections",
        tags: ['risk control'],
        security: [{ bearer: [] }],
        params: Params,
        querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 3660, default: 90, description: 'the period the summary counts' }) }),
        response: { 200: EnterpriseAnswer, ...errorResponses },
      },
    },
    async (req) => {
      const record = await enterprises.get(req.params.id);
      if (!record) throw notFound('ENTERPRISE_NOT_FOUND', `no enterprise ${req.params.id}`);
      return { enterprise: record, summary: await enterprises.summary(record.id, req.query.days) };
    },
  );

  app.put(
    '/v1/enterprises/:id',
    {
      onRequest: app.requireRole('risk-control', 'admin'),
      schema: {
        summary: "Set an enterprise's credit level (creates the record if no declaration named it yet)",
        tags: ['risk control'],
        security: [{ bearer: [] }],
        params: Params,
        body: Type.Object(
          {
            creditLevel: Type.Enum(CREDIT_LEVELS),
            reason: Type.String({ minLength: 1, maxLength: 2000 }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: EnterpriseAnswer, 201: EnterpriseAnswer, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { creditLevel, reason, name } = req.body;
      const actor = req.principal!.name;
      const { before, after } = await opts.db.transaction(async (tx) => {
        const changed = await enterprisesRepo(tx).setByRiskControl(tx, { id: req.params.id, creditLevel, reason, ...(name && { name }), actor });
        await audit.append(tx, {
          actor,
          action: 'enterprise.credit-level-set',
          subject: `enterprise:${req.params.id}`,
          detail: { from: changed.before?.creditLevel ?? null, to: creditLevel, reason },
        });
        return changed;
      });
      return reply.status(before ? 200 : 201).send({ enterprise: after, summary: await enterprises.summary(after.id, 90) });
    },
  );
};

export default enterpriseRoutes;
