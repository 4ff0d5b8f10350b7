// The gate's question: may this container leave? Never yes while a lock instruction on it is open, a
// held scan of it waits for its lock instruction, or a scan of it is still being processed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { holdsRepo } from '../../../storage/repos/holds.js';
import { errorResponses } from '../../schemas.js';

const gateRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const holds = holdsRepo(opts.db);
  app.get(
    '/v1/gate/:containerNo',
    {
      onRequest: app.requireRole('terminal', 'supervisor'),
      schema: {
        summary: 'May the container leave the gate?',
        tags: ['holds'],
        security: [{ bearer: [] }],
        params: Type.Object({ containerNo: Type.String({ pattern: '^[A-Za-z]{4}[0-9]{7}$' }) }),
        response: {
          200: Type.Object({
            containerNo: Type.String(),
            mayLeave: Type.Boolean(),
            openHolds: Type.Array(Type.Object({ id: Type.String(), scanId: Type.String(), state: Type.String(), createdAt: Type.String() })),
            heldWithoutLock: Type.Array(Type.String(), { description: 'held scans whose lock instruction is not written yet' }),
            pendingScans: Type.Array(Type.String(), { description: 'scans of this container still in the pipeline' }),
            underReview: Type.Array(Type.String(), { description: 'scans of this container awaiting a reviewer (not a hold)' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const containerNo = req.params.containerNo.toUpperCase();
      const g = await holds.gate(containerNo);
      return {
        containerNo,
        mayLeave: g.mayLeave,
        openHolds: g.openHolds.map((h) => ({ id: h.id, scanId: h.scanId, state: h.state, createdAt: h.createdAt })),
        heldWithoutLock: g.heldWithoutLock,
        pendingScans: g.pendingScans,
        underReview: g.underReview,
      };
    },
  );
};

export default gateRoutes;
