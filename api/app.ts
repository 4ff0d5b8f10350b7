// Builds the fastify app as a plugin tree: external clients are passed in, then app plugins (errors,
// auth, multipart, OpenAPI), then routes. The caller owns the clients and closes them.
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Queues } from '../pipeline/queues.js';
import type { Sql } from '../storage/db/sql.js';
import type { ObjectStore } from '../storage/objects/object-store.js';
import errorsPlugin from './plugins/errors.js';
import { validatorCompiler } from './plugins/validation.js';
import auth from './plugins/auth.js';
import healthRoutes from './routes/health/index.js';
import metricsPlugin from './routes/health/metrics.js';
import scanRoutes from './routes/scans/index.js';
import declarationRoutes from './routes/declarations/index.js';
import shadowRoutes from './routes/shadow/index.js';
import routeCatalog from './plugins/route-catalog.js';
import reviewWorkflow from './review-workflow.js';
import { loadConfig } from '../config.js';
import tdrRoutes from './routes/tdr/index.js';
import imageRoutes from './routes/images/index.js';
import referenceRoutes from './routes/references/index.js';
import reviewUi from './web/serve.js';

export interface AppDeps {
  /** clientKeyCacheMs absent: the default of config.ts. */
  config: Pick<Config, 'maxUploadBytes' | 'maxImagePixels' | 'imageUrls'> & Partial<Pick<Config, 'clientKeyCacheMs'>>;
  /** The review workflow's settings; absent → the defaults of config.ts. */
  review?: Config['review'];
  db: Sql;
  objects: ObjectStore;
  queues: Queues;
  logger: Logger;
}

/** The review UI's Content-Security-Policy (api/web: module scripts, a stylesheet, same-origin fetches and images). */
export const REVIEW_UI_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler());
  // Every answer: no MIME sniffing, never framed (the review UI's decision buttons cannot be clickjacked), no
  // Referer carrying a signed URL elsewhere. The review UI's pages also get a Content-Security-Policy: its own
  // scripts, styles and images only (no inline script or style attribute; the built page has none).
  app.addHook('onSend', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    if (req.url.startsWith('/review')) void reply.header('content-security-policy', REVIEW_UI_CSP);
  });
  await app.register(errorsPlugin);
  await app.register(routeCatalog);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tidewatch API', version: '0.1.0', description: 'Smart review of customs X-ray and CT scans' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API client key (twg_…) or user session token' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: deps.config.maxUploadBytes, files: 2, fields: 1, parts: 4, fieldSize: 16 * 1024, headerPairs: 100 },
  });
  await app.register(auth, { db: deps.db, keyCacheMs: deps.config.clientKeyCacheMs ?? loadConfig({}).clientKeyCacheMs });
  await app.register(healthRoutes, { db: deps.db, queues: deps.queues, objects: deps.objects });
  await app.register(metricsPlugin, { queues: deps.queues });
  await app.register(scanRoutes, { db: deps.db, objects: deps.objects, queues: deps.queues, maxImagePixels: deps.config.maxImagePixels });
  await app.register(declarationRoutes, { db: deps.db, queues: deps.queues });
  await app.register(shadowRoutes, { db: deps.db });
  await app.register(reviewWorkflow, { db: deps.db, review: deps.review ?? loadConfig({}).review, imageUrls: deps.config.imageUrls });
  await app.register(tdrRoutes, { db: deps.db, objects: deps.objects });
  await app.register(imageRoutes, { db: deps.db, objects: deps.objects, maxImagePixels: deps.config.maxImagePixels, imageUrls: deps.config.imageUrls });
  await app.register(referenceRoutes, { db: deps.db, objects: deps.objects, imageUrls: deps.config.imageUrls });
  await app.register(reviewUi);
  return app;
}
