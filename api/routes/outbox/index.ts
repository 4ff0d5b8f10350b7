// Dead-lettered outbound messages (terminal and webhooks) for supervisors, and putting one back.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { outboxDeliveriesRepo } from '../../../storage/repos/outbox-deliveries.js';
import { ApiError } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

const DeadLetter = Type.Object({
  id: Type.String(),
  topic: Type.String(),
  destination: Type.String(),
  dedupeKey: Type.String(),
  payload: Type.Unknown(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  deadAt: Type.String(),
});

const outboxRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const deliveries = outboxDeliveriesRepo(opts.db);
  const common = { tags: ['holds'], security: [{ bearer: [] }] };
  app.get(
    '/v1/outbox/dead',
    {
      onRequest: app.requireRole('supervisor'),
      schema: { ...common, summary: 'Messages that ran out of delivery attempts', response: { 200: Type.Object({ items: Type.Array(DeadLetter) }), ...errorResponses } },
    },
    async () => ({ items: await deliveries.dead() }),
  );
  app.post(
    '/v1/outbox/:id/retry',
    {
      onRequest: app.requireRole('supervisor'),
      schema: {
        ...common,
        summary: 'Deliver a dead-lettered message again (fresh attempts)',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) }),
        response: { 200: Type.Object({ id: Type.String(), requeued: Type.Boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      if (!(await deliveries.retry(req.params.id))) throw new ApiError(404, 'DEAD_LETTER_NOT_FOUND', `no dead-lettered message ${req.params.id}`);
      return { id: req.params.id, requeued: true };
    },
  );
};

export default outboxRoutes;
