// PostgreSQL stops (crash-like) during ingest: pushes answer 503 with Retry-After and store no scan;
// work accepted before the outage finishes after recovery; nothing is duplicated.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dualEnergyPair } from '../helpers/images.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { recordOutcome, tally } from '../helpers/reliability.js';

let cluster: PgCluster;
let stack: TestStack;
beforeAll(async () => {
  cluster = await startPgCluster();
  stack = await startStack({ databaseUrl: cluster.url, env: { JOB_LOCK_MS: '2000' } });
});
afterAll(async () => {
  await stack?.close().catch(() => {});
  cluster?.destroy();
});

const meta = (scanId: string) => ({ scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' });
const verdictOf = (scanId: string) =>
  pollUntil(() => getJson(stack.url, `/v1/scans/${scanId}`, stack.key), (r) => r.body.status === 'assessed' && r.body.verdict !== null, 60_000, 200);

it('503 + Retry-After while the database is down, then everything accepted gets exactly one verdict', async () => {
  const images = await dualEnergyPair(128, 64, 11);
  // Accepted just before the crash: its stages will meet the outage half-way.
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta('pg-before'), images })).status).toBe(202);
  cluster.stop('immediate');

  const form = new FormData();
  form.append('metadata', JSON.stringify(meta('pg-during')));
  form.append('high', new Blob([new Uint8Array(images.high)]));
  form.append('low', new Blob([new Uint8Array(images.low)]));
  const during = await fetch(`${stack.url}/v1/scans`, { method: 'POST', body: form, headers: { authorization: `Bearer ${stack.key}` } });
  expect(during.status).toBe(503);
  expect(during.headers.get('retry-after')).toBe('5');
  expect(((await during.json()) as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
  const ready = await fetch(`${stack.url}/readyz`);
  expect(ready.status).toBe(503);

  await new Promise((r) => setTimeout(r, 1500)); // let the workers hit the outage and retry
  cluster.start();

  // The gateway retries the refused push; it is stored now.
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta('pg-during'), images })).status).toBe(202);
  for (const id of ['pg-before', 'pg-during']) expect((await verdictOf(id)).body.status, id).toBe('assessed');
  const counts = await stack.db.db.query<{ scan_id: string; n: number }>(
    `SELECT scan_id, count(*)::int AS n FROM verdicts GROUP BY scan_id ORDER BY scan_id`,
  );
  recordOutcome({ fault: 'PostgreSQL crashed during ingest and processing', ...tally(['pg-before', 'pg-during'], Object.fromEntries(counts.rows.map((r) => [r.scan_id, r.n]))) });
  expect(counts.rows).toEqual([{ scan_id: 'pg-before', n: 1 }, { scan_id: 'pg-during', n: 1 }]);
  expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
});
