// Shadow mode results: how a candidate policy's (or candidate models') decisions differ from the active ones on live scans.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { shadowRepo } from '../../../storage/repos/shadow.js';
import { ApiError } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

const Summary = Type.Object({
  candidateVersion: Type.String(),
  scans: Type.Integer(),
  differing: Type.Integer(),
  decisionChanges: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())),
});

const ShadowScanView = Type.Object({
  scanId: Type.String(),
  activeVersion: Type.String(),
  activeDecision: Type.String(),
  candidateDecision: Type.String(),
  differs: Type.Boolean(),
  differences: Type.Unknown({ description: 'decision, addedReasons, removedReasons, directRelease, blindSample' }),
  at: Type.String(),
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
  app.get(
    '/v1/shadow/scans',
    {
      onRequest: app.requireRole('risk-control', 'supervisor', 'admin'),
      config: { validationCode: 'SHADOW_QUERY_INVALID' },
      schema: {
        summary: "One candidate's scans, newest first: what it decided beside the active decision, and the differences",
        tags: ['risk control'],
        security: [{ bearer: [] }],
        querystring: Type.Object({
          candidate: Type.String({ minLength: 1, maxLength: 500, description: 'a candidateVersion from GET /v1/shadow' }),
          differing: Type.Boolean({ default: true, description: 'only the scans where the candidate differs' }),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          before: Type.Optional(Type.String({ maxLength: 300, description: 'the nextCursor of the previous page' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(ShadowScanView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (req) => {
      const { candidate, differing, limit, before } = req.query;
      const items = await shadow.scans(candidate, { differing, limit, ...(before !== undefined && { before: decodeCursor(before) }) });
      const last = items.at(-1);
      return { items, nextCursor: items.length === limit && last ? encodeCursor(last.position, last.scanId) : null };
    },
  );
};

const encodeCursor = (at: string, scanId: string) => Buffer.from(JSON.stringify([at, scanId])).toString('base64url');

/** A cursor's time: UTC ISO 8601 to the microsecond, as the repository gives it (PostgreSQL would read more forms
 * than this, and refuse some that Date.parse reads, e.g. "1"). */
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The [position, scanId] a cursor carries; 400 SHADOW_QUERY_INVALID for anything else. */
function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && POSITION.test(v[0]) && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // not base64url JSON: answered below
  }
  throw new ApiError(400, 'SHADOW_QUERY_INVALID', 'before is not a cursor this endpoint gave', { field: 'before' });
}

export default shadowRoutes;
