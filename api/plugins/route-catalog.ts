// Records every route as it is registered, so a test can walk each route × each role and a route added
// without a role guard fails it. Registered before any route.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

export interface CatalogedRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeCatalog: CatalogedRoute[];
  }
}

export default fp(async function routeCatalog(app: FastifyInstance) {
  const routes: CatalogedRoute[] = [];
  app.decorate('routeCatalog', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
});
