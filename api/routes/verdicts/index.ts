// The verdict feed for risk control: every verdict event (machine, reviewer, supervisor, inspection) in
// order, resumable with the cursor it answers; at-least-once for a client that stores the cursor after
// processing. Filters by decision, port and enterprise (from the declaration).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DECISIONS } from '../../../domain/verdict.js';
import type { Sql } from '../../../storage/db/sql.js';
import { FEED_START, parseCursor, verdictFeedRepo } from '../../../storage/repos/verdict-feed.js';
import { ApiError } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { VerdictSchema } from '../scans/schema.js';

const FeedItem = Type.Object({ ...VerdictSchema.properties, cursor: Type.String() });

const verdictRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const feed = verdictFeedRepo(opts.db);
  app.get(
    '/v1/verdicts',
    {
      onRequest: app.requireRole('risk-control'),
      config: { validationCode: 'FEED_QUERY_INVALID' },
      schema: {
        summary: 'Every verdict event after a cursor, in order',
        tags: ['risk control'],
        security: [{ bearer: [] }],
        querystring: Type.Object({
          after: Type.String({ pattern: '^\\d{1,20}\\.\\d{1,19}$', default: FEED_START, description: 'the nextCursor of the previous page; absent → from the start' }),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          decision: Type.Optional(Type.Enum(DECISIONS)),
          port: Type.Optional(Type.String({ maxLength: 64 })),
          enterprise: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(FeedItem), nextCursor: Type.String() }), ...errorResponses },
      },
    },
    async (req) => {
      const { after, limit, decision, port, enterprise } = req.query;
      if (!parseCursor(after)) throw new ApiError(400, 'FEED_QUERY_INVALID', 'after is not a cursor this feed gave', { field: 'after' });
      const items = await feed.after(after, { limit, ...(decision && { decision }), ...(port && { port }), ...(enterprise && { enterprise }) });
      return { items, nextCursor: items.at(-1)?.cursor ?? after };
    },
  );
};

export default verdictRoutes;
