// `npm run client:gen`: builds the real app (PGlite and a file store in a temp dir, BullMQ producers on
// REDIS_URL or the local Redis, which need not be up) and writes its OpenAPI document as TypeScript types
// to api/client/openapi.d.ts and as JSON to api/client/openapi.json.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import { generateClientTypes } from '../api/client/generate.js';
import { loadConfig } from '../config.js';
import { createQueues } from '../pipeline/queues.js';
import { migrate } from '../storage/db/migrate.js';
import { createPglite } from '../storage/db/pglite.js';
import { createFsObjectStore } from '../storage/objects/fs-store.js';

/** The typed client as the running app describes itself: the JSON document and the generated types. */
export async function renderClient(): Promise<{ json: string; dts: string; paths: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-client-gen-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const db = await createPglite(join(dir, 'db'));
  await migrate(db);
  const queues = createQueues(config.redisUrl ?? 'redis://127.0.0.1:6379', config.queuePrefix);
  const app = await buildApp({ config, db, objects: createFsObjectStore(join(dir, 'objects')), queues, logger: pino({ level: 'silent' }) });
  try {
    await app.ready();
    const document = app.swagger() as Parameters<typeof generateClientTypes>[0];
    return {
      json: `${JSON.stringify(document, null, 2)}\n`,
      dts: generateClientTypes(document, ['post /v1/scans']),
      paths: Object.keys(document.paths ?? {}).length,
    };
  } finally {
    await app.close();
    await queues.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const CLIENT_DIR = resolve(import.meta.dirname, '../api/client');

async function main(): Promise<void> {
  const c = await renderClient();
  await writeFile(join(CLIENT_DIR, 'openapi.json'), c.json);
  await writeFile(join(CLIENT_DIR, 'openapi.d.ts'), c.dts);
  console.log(`wrote api/client/openapi.d.ts and openapi.json (${c.paths} paths)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
