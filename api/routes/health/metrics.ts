// Prometheus exposition at /metrics (unauthenticated by design, like /healthz: scrape it from the
// internal network only) and per-route request timing.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { httpSeconds, queueDepth, registry } from '../../../pipeline/metrics.js';
import type { Queues } from '../../../pipeline/queues.js';

const metricsPlugin: FastifyPluginAsync<{ queues: Queues }> = async (app, opts) => {
  app.addHook('onResponse', async (req, reply) => {
    httpSeconds.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    try {
      const depths = await opts.queues.depths();
      for (const [stage, n] of Object.entries(depths)) queueDepth.set({ stage }, n);
    } catch {
      // Redis away: the depth gauges keep their last values; /readyz reports the outage.
    }
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
};

export default fp(metricsPlugin);
