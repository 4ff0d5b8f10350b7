// Supervisor figures: how much the machine clears alone, the queue, overdue items, reviewer throughput.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { statsRepo } from '../../../storage/repos/stats.js';
import { errorResponses } from '../../schemas.js';

const statsRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const stats = statsRepo(opts.db);
  app.get(
    '/v1/stats',
    {
      onRequest: app.requireRole('supervisor', 'admin'),
      schema: {
        summary: 'Auto-clear rate (machine, last 24 h), queue depth, overdue, decisions today, verdicts by hour',
        tags: ['review'],
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            autoClearRate: Type.Number(),
            machineVerdicts24h: Type.Integer(),
            queueDepth: Type.Integer(),
            overdue: Type.Integer(),
            decisionsToday: Type.Integer(),
            reviewerThroughput: Type.Array(Type.Object({ reviewer: Type.String(), decisions: Type.Integer() })),
            verdictsByHour: Type.Array(Type.Object({ hour: Type.String(), clear: Type.Integer(), review: Type.Integer(), hold: Type.Integer() })),
          }),
          ...errorResponses,
        },
      },
    },
    async () => stats.snapshot(),
  );
};

export default statsRoutes;
