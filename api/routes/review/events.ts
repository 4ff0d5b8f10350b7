// GET /v1/review/events: Server-Sent Events of queue changes. The UI reads it with fetch and a stream
// reader (it must send the Authorization header, which EventSource cannot).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../schemas.js';
import type { QueueChanged } from '../../plugins/review-events.js';

const HEARTBEAT_MS = 15_000;

const reviewEventsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/review/events',
    {
      onRequest: app.requireRole('reviewer', 'supervisor'),
      schema: {
        summary: 'Live queue changes (text/event-stream): data lines of {type: "queue-changed", scanId, state}',
        tags: ['review'],
        security: [{ bearer: [] }],
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'an event stream' }), ...errorResponses },
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      const onChange = (e: QueueChanged) => res.write(`data: ${JSON.stringify(e)}\n\n`);
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      const end = () => {
        clearInterval(heartbeat);
        app.reviewEvents.off('queue-changed', onChange);
        app.reviewEvents.off('closing', end);
        if (!res.writableEnded) res.end();
      };
      app.reviewEvents.on('queue-changed', onChange);
      app.reviewEvents.on('closing', end);
      req.raw.on('close', end);
    },
  );
};

export default reviewEventsRoute;
