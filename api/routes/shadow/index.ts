// Shadow mode results: how a candidate policy's (or candidate models') decisions differ from the active ones on live scans.
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
        summary: 'Shadow-mode summary: a candidate policy or candidate models (SHADOW_MODELS_DIR) vs the active ones, per candidate',
        tags: ['risk control'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ candidates: Type.Array(Summary) }), ...errorResponses },
      },
    },
    async () => ({ candidates: await shadow.summary() }),
  );
};

export default shadowRoutes;
