// Shadow mode results: how a candidate policy's decisions differ from the active policy on live scans.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { shadowRepo } from '../../../storage/repos/shadow.js';
import { errorResponses } from '../../schemas.js';

const Summary = Type.Object({
  candidateVersion: Type.String(),
  scans: Type.Integer(),
  differing: Type.Integer(),
  decisionChanges: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())),
});

const shadowRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const shadow = shadowRepo(opts.db);
  app.get(
    '/v1/shadow',
    {
      onRequest: app.requireRole('risk-control', 'supervisor', 'admin'),
      schema: {
        summary: 'Shadow-mode summary: candidate policy decisions vs the active policy',
        tags: ['risk control'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ candidates: Type.Array(Summary) }), ...errorResponses },
      },
    },
    async () => ({ candidates: await shadow.summary() }),
  );
};

export default shadowRoutes;
