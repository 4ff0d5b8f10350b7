// Shadow mode: a candidate policy is evaluated on every scan beside the active one; only the active
// policy's verdict is stored and acted on; risk control sees the comparison.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_POLICY_FILE } from '../../pipeline/policy.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-shadow-'));
  // The candidate: reviews every shipment of ordinary and AEO-advanced enterprises alike.
  const candidate = JSON.parse(await readFile(DEFAULT_POLICY_FILE, "utf8")) as { version: string; creditLevels: Record<string, { alwaysReview: boolean }> };
  candidate.version = 'candidate-strict';
  candidate.creditLevels['aeo-advanced']!.alwaysReview = true;
  await writeFile(join(dir, 'candidate.json'), JSON.stringify(candidate));
  stack = await startStack({ database: 'pglite', env: { SHADOW_POLICY_FILE: join(dir, 'candidate.json') } });
});
afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

it('records the candidate policy beside the active verdict, and reports it to risk control', async () => {
  const declKey = (await gatewaysRepo(stack.db.db).add('decl', 'declaration-source')).key;
  const rcKey = (await gatewaysRepo(stack.db.db).add('rc', 'risk-control')).key;
  expect((await putDeclaration(stack.url, declKey, tyreDeclaration('SH-1', 'MSKU9070323'))).status).toBe(201);
  const res = await pushScan(stack.url, {
    key: stack.key,
    metadata: { scanId: 'shadow-1', scannerId: 'H986-01', modality: 'container-xray', containerNo: 'MSKU9070323', capturedAt: '2026-11-23T08:00:00Z' },
    images: await dualEnergyPair(128, 64, 1),
  });
  expect(res.status).toBe(202);
  const done = await pollUntil(() => getJson(stack.url, '/v1/scans/shadow-1', stack.key), (r) => r.body.status === 'assessed');
  expect((done.body.verdict as { policyVersion: string }).policyVersion).not.toBe('candidate-strict');
  const row = await stack.db.db.query<{ candidate_version: string; differences: { addedReasons: string[] } }>(
    `SELECT candidate_version, differences FROM shadow_assessments WHERE scan_id = 'shadow-1'`,
  );
  expect(row.rows[0]!.candidate_version).toBe('candidate-strict');
  expect(row.rows[0]!.differences.addedReasons).toContain('CREDIT_LEVEL_REVIEW');
  const summary = await getJson(stack.url, '/v1/shadow', rcKey);
  expect(summary.status).toBe(200);
  expect(summary.body.candidates).toEqual([expect.objectContaining({ candidateVersion: 'candidate-strict', scans: 1, differing: 1 })]);
  expect((await getJson(stack.url, '/v1/shadow', stack.key)).status).toBe(403);
});

it('pages through rows stored within one millisecond without losing any, and refuses a cursor it did not give', async () => {
  const rc = await gatewaysRepo(stack.db.db).add('risk-desk-paging', 'risk-control');
  const rcKey = rc.key;
  // three scans of one candidate, 1 µs apart: a cursor cut to the millisecond would skip the older ones
  for (const [i, at] of ['2026-11-23T08:00:00.123401Z', '2026-11-23T08:00:00.123402Z', '2026-11-23T08:00:00.123403Z'].entries()) {
    await stack.db.db.query(
      `INSERT INTO scans (scan_id, gateway_id, scanner_id, modality, container_no, captured_at, content_hash) VALUES ($1, $2, 'H986-01', 'container-xray', 'CSQU3054383', $3, 'x')`,
      [`page-${i}`, rc.gateway.id, at],
    );
    await stack.db.db.query(
      `INSERT INTO shadow_assessments (scan_id, active_version, candidate_version, active_decision, candidate_decision, differs, differences, created_at)
       VALUES ($1, 'active', 'paging-probe', 'clear', 'review', true, '{"differs":true,"addedReasons":[],"removedReasons":[]}', $2)`,
      [`page-${i}`, at],
    );
  }
  const seen: string[] = [];
  let before: string | null = null;
  for (let page = 0; page < 5; page++) {
    const r = await getJson(stack.url, `/v1/shadow/scans?candidate=paging-probe&limit=1${before ? `&before=${before}` : ''}`, rcKey);
    expect(r.status).toBe(200);
    seen.push(...(r.body.items as { scanId: string }[]).map((x) => x.scanId));
    before = r.body.nextCursor as string | null;
    if (!before) break;
  }
  expect(seen).toEqual(['page-2', 'page-1', 'page-0']);
  // a cursor whose time PostgreSQL would not read ("1": Date.parse takes it as 2001)
  const bad = Buffer.from(JSON.stringify(['1', 'page-0'])).toString('base64url');
  const r = await getJson(stack.url, `/v1/shadow/scans?candidate=paging-probe&before=${bad}`, rcKey);
  expect([r.status, r.body.code]).toEqual([400, 'SHADOW_QUERY_INVALID']);
});
