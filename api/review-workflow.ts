// The manual review workflow as one plugin (docs/review-api.md): user sessions, live queue events, and
// the routes for sign-in, the review queue, holds and the gate, outbox dead letters, the verdict feed,
// subscriptions, inspections, enterprise records and statistics. Every route is guarded by app.requireRole.
import type { FastifyInstance } from 'fastify';
import type { ReviewConfig } from '../config.js';
import type { Sql } from '../storage/db/sql.js';
import userSessions from './plugins/user-sessions.js';
import reviewEvents from './plugins/review-events.js';
import authRoutes from './routes/auth/index.js';
import reviewRoutes from './routes/review/index.js';
import holdRoutes from './routes/holds/index.js';
import gateRoutes from './routes/gate/index.js';
import outboxRoutes from './routes/outbox/index.js';
import verdictRoutes from './routes/verdicts/index.js';
import subscriptionRoutes from './routes/subscriptions/index.js';
import inspectionRoutes from './routes/inspections/index.js';
import statsRoutes from './routes/stats/index.js';
import enterpriseRoutes from './routes/enterprises/index.js';
import containerRoutes from './routes/containers/index.js';

export default async function reviewWorkflow(app: FastifyInstance, opts: { db: Sql; review: ReviewConfig; imageUrls?: { secret: string; ttlSeconds: number } }) {
  await app.register(userSessions, { db: opts.db });
  await app.register(reviewEvents, { db: opts.db, pollMs: opts.review.eventsPollMs });
  await app.register(authRoutes, opts);
  await app.register(reviewRoutes, opts);
  for (const routes of [holdRoutes, gateRoutes, outboxRoutes, verdictRoutes]) await app.register(routes, { db: opts.db });
  await app.register(subscriptionRoutes, { db: opts.db, allowedNetworks: opts.review.subscriptionAllowedNetworks });
  for (const routes of [inspectionRoutes, statsRoutes, enterpriseRoutes, containerRoutes]) await app.register(routes, { db: opts.db });
}
