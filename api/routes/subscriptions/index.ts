// Webhook subscriptions to verdict events for risk control: each delivery is signed with the
// subscription's secret, shown once here at creation. A URL reaching an address that is not public (loopback,
// private, link-local, reserved) is refused unless SUBSCRIPTION_ALLOWED_NETWORKS allows its network.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DECISIONS } from '../../../domain/verdict.js';
import type { Sql } from '../../../storage/db/sql.js';
import { subscriptionsRepo } from '../../../storage/repos/subscriptions.js';
import { DestinationRefusedError, destinationGuard } from '../../../pipeline/webhook-destination.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

const SubscriptionSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  decisions: Type.Union([Type.Array(Type.String()), Type.Null()]),
  createdBy: Type.String(),
  createdAt: Type.String(),
});

const subscriptionRoutes: FastifyPluginAsyncTypebox<{ db: Sql; allowedNetworks?: readonly string[] }> = async (app, opts) => {
  const subs = subscriptionsRepo(opts.db);
  const destinations = destinationGuard(opts.allowedNetworks ?? []);
  const guard = app.requireRole('risk-control', 'admin');
  const common = { tags: ['risk control'], security: [{ bearer: [] }] };

  app.post(
    '/v1/subscriptions',
    {
      onRequest: guard,
      schema: {
        ...common,
        summary: 'Subscribe a URL to verdict events; the signing secret is in this answer only',
        body: Type.Object(
          { url: Type.String({ pattern: '^https?://', maxLength: 2000 }), decisions: Type.Optional(Type.Array(Type.Enum(DECISIONS), { minItems: 1, uniqueItems: true })) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ...SubscriptionSchema.properties, secret: Type.String() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      try {
        await destinations.checkUrl(req.body.url);
      } catch (err) {
        if (err instanceof DestinationRefusedError) throw new ApiError(400, err.code, err.message, { field: 'url' });
        throw err;
      }
      const { subscription, secret } = await subs.add({ url: req.body.url, ...(req.body.decisions && { decisions: req.body.decisions }), createdBy: req.principal!.name });
      return reply.status(201).send({ ...subscription, secret });
    },
  );

  app.get(
    '/v1/subscriptions',
    { onRequest: guard, schema: { ...common, summary: 'Active subscriptions', response: { 200: Type.Object({ items: Type.Array(SubscriptionSchema) }), ...errorResponses } } },
    async () => ({ items: await subs.list() }),
  );

  app.delete(
    '/v1/subscriptions/:id',
    {
      onRequest: guard,
      schema: { ...common, summary: 'End a subscription', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), ...errorResponses } },
    },
    async (req, reply) => {
      if (!(await subs.remove(req.params.id))) throw notFound('SUBSCRIPTION_NOT_FOUND', `no subscription ${req.params.id}`);
      return reply.status(204).send(null);
    },
  );
};

export default subscriptionRoutes;
