// Serves the built review UI (api/web/dist, made by `npm run build`) at /review/. Without a build the
// route says how to make one instead of answering a bare 404.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST = fileURLToPath(new URL('./dist/', import.meta.url));

export default fp(async function reviewUi(app: FastifyInstance, opts: { root?: string }) {
  const root = opts.root ?? WEB_DIST;
  app.get('/review', { schema: { hide: true } }, (_req, reply) => reply.redirect('/review/'));
  if (!existsSync(`${root}/index.html`)) {
    app.get('/review/*', { schema: { hide: true } }, (_req, reply) =>
      reply.status(503).type('text/plain; charset=utf-8').send('The review UI is not built. Run `npm run build`, then reload.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/review/',
    // Hashed asset names change with every build, so they may be cached for good; index.html may not.
    setHeaders(reply, path) {
      void reply.header('cache-control', /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
});
