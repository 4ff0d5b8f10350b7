// Liveness and readiness: /readyz checks the database, the queue and the object store.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Queues } from '../../../pipeline/queues.js';
import type { Sql } from '../../../storage/db/sql.js';
import type { ObjectStore } from '../../../storage/objects/object-store.js';

const Check = Type.Union([Type.Literal('ok'), Type.Literal('down')]);
const Ready = Type.Object({ status: Check, checks: Type.Object({ database: Check, queue: Check, objectStore: Check }) });

async function probe(fn: () => Promise<unknown>, ms = 1500): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), ms)))]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

const healthRoutes: FastifyPluginAsyncTypebox<{ db: Sql; queues: Queues; objects: ObjectStore }> = async (app, opts) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { tags: ['health'], response: { 200: Ready, 503: Ready } } }, async (_req, reply) => {
    const [database, queue, objectStore] = await Promise.all([probe(() => opts.db.ping()), probe(() => opts.queues.ping()), probe(() => opts.objects.ping())]);
    const ok = database === 'ok' && queue === 'ok' && objectStore === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'down', checks: { database, queue, objectStore } });
  });
};

export default healthRoutes;
