// `npm run demo`: the embedded default. One process runs the API and the workers on PGlite (./data/db),
// files (./data/objects) and Redis (REDIS_URL, else a redis-server of its own with AOF in ./data/redis),
// seeds a gateway, pushes a few synthetic scans through and prints their verdicts.
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase, openObjectStore } from '../storage/open.js';
import { RedisBinaryMissingError, startRedisServer, type RedisServer } from '../storage/redis-server.js';
import { randomBytes } from 'node:crypto';
import { gatewaysRepo } from '../storage/repos/gateways.js';
import { usersRepo, type UserRole } from '../storage/repos/users.js';
import { demoScans } from './demo-scans.js';
import { createLogger, onShutdown, startApi, startPipeline } from './wiring.js';

async function main(): Promise<void> {
  const exitAfterSeed = process.argv.includes('--exit-after-seed');
  // Demo pacing: a scan waits 3 s for its declaration (production default: 5 min).
  const config = loadConfig({ LOG_LEVEL: 'warn', DECLARATION_WAIT_MS: '3000', SWEEP_IDLE_MS: '1000', SWEEP_INTERVAL_MS: '500', ...process.env });
  const logger = createLogger(config, 'tidewatch-demo');
  let redis: RedisServer | null = null;
  if (!config.redisUrl) redis = await startRedisServer(join(config.dataDir, 'redis'));
  const redisUrl = config.redisUrl ?? redis!.url;
  const db = await openDatabase(config);
  const objects = await openObjectStore(config);
  const shared = { config, logger, db, objects, redisUrl };
  const api = await startApi(shared);
  const pipeline = await startPipeline(shared);
  const { key } = await gatewaysRepo(db).rotate('demo');
  const { key: declarationKey } = await gatewaysRepo(db).rotate('demo-declarations', 'declaration-source');
  // People for the review UI, with fresh passwords each run (printed once, stored as argon2id hashes).
  const people: Array<[string, UserRole, 'A' | undefined]> = [['demo.reviewer', 'reviewer', 'A'], ['demo.supervisor', 'supervisor', undefined]];
  const logins: string[] = [];
  for (const [username, role, tier] of people) {
    const password = randomBytes(9).toString('base64url');
    const users = usersRepo(db);
    if (!(await users.setPassword(username, password))) await users.add({ username, role, ...(tier && { tier }), password });
    logins.push(`${role} login: ${username} ${password}`);
  }

  console.log(`api: ${api.address}`);
  console.log(`gateway key: ${key}`);
  console.log(`docs: ${api.address}/docs`);
  console.log(`review UI: ${api.address}/review/`);
  for (const line of logins) console.log(line);

  const close = async () => {
    await api.close();
    await pipeline.close();
    await db.close();
    await redis?.stop();
  };
  onShutdown(logger, close);

  const runId = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  for (const scan of await demoScans(runId)) {
    if (scan.declaration) {
      const res = await fetch(`${api.address}/v1/declarations/${scan.declaration.declarationId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${declarationKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(scan.declaration),
      });
      if (res.status >= 300) throw new Error(`demo declaration refused: ${res.status} ${await res.text()}`);
    }
    const form = new FormData();
    form.append('metadata', JSON.stringify(scan.metadata));
    form.append('high', new Blob([new Uint8Array(scan.images.high)]), 'high.png');
    form.append('low', new Blob([new Uint8Array(scan.images.low)]), 'low.png');
    const res = await fetch(`${api.address}/v1/scans`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as { scanId: string; statusUrl: string; code?: string };
    if (res.status >= 300) throw new Error(`demo push failed: ${res.status} ${body.code}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const view = (await (await fetch(`${api.address}${body.statusUrl}`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
        status: string;
        verdict: { decision: string; reasons: Array<{ code: string }> } | null;
      };
      if (view.verdict) {
        console.log(`verdict: ${body.scanId} ${view.verdict.decision} ${view.verdict.reasons.map((r) => r.code).join(',') || '-'}  (${scan.story})`);
        break;
      }
      if (Date.now() > deadline) {
        console.log(`verdict: ${body.scanId} still ${view.status} after 60 s`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.log(`Try it: curl -H "Authorization: Bearer ${key}" ${api.address}/v1/scans/demo-${runId}-c0`);
  if (exitAfterSeed) {
    await close();
    process.exit(0);
  }
  console.log('Press Ctrl-C to stop.');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof RedisBinaryMissingError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
