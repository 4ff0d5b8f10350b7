// Risk control's side: the verdict feed by cursor (resumable, filtered), double-blind
// samples that disagree and escalate, inspections that add a verdict event and a reference candidate,
// supervisor statistics, and the label export.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLabels } from '../../scripts/export-labels.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { inspectionsRepo } from '../../storage/repos/inspections.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let a: TestUser, b: TestUser, sup: TestUser, risk: TestUser, admin: TestUser;
const cns: string[] = [];

beforeAll(async () => {
  // Every item is a double-blind sample here.
  stack = await startStack({ database: 'postgres', env: { DOUBLE_BLIND_RATE: '1' } });
  const db = stack.db.db;
  [a, b, sup, risk, admin] = await Promise.all([
    makeUser(db, 'ada', 'reviewer', 'A'),
    makeUser(db, 'ben', 'reviewer', 'B'),
    makeUser(db, 'sol', 'supervisor'),
    makeUser(db, 'rita', 'risk-control'),
    makeUser(db, 'root', 'admin'),
  ]);
  const sourceKey = (await gatewaysRepo(db).add('decl', 'declaration-source')).key;
  for (let i = 0; i < 3; i++) cns.push(await containerNo('FED', 10 + i));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-F0', cns[0]!, { port: 'CNTAO', enterprise: { id: 'ENT-77', creditLevel: 'ordinary' } }));
  await Promise.all(cns.map((no, i) => pushAndRoute(stack.url, stack.key, db, `fd-${i}`, no, 40 + i)));
});
afterAll(async () => stack?.close());

type FeedPage = { items: Array<{ id: string; scanId: string; source: string; decision: string; cursor: string }>; nextCursor: string };

describe('double-blind samples', () => {
  it('need two different reviewers; agreement decides', async () => {
    await call(stack.url, 'POST', '/v1/review/items/fd-0/claim', a.token);
    const first = await call(stack.url, 'POST', '/v1/review/items/fd-0/decision', a.token, { decision: 'clear', reason: 'tyres', boxes: [{ label: 'tyre', box: [5, 5, 40, 30] }] });
    expect(first.body).toEqual({ state: 'awaiting-second' });
    expect((await call(stack.url, 'POST', '/v1/review/items/fd-0/claim', a.token)).body.code).toBe('NOT_CLAIMABLE');
    // Blind: the second reviewer does not see the first decision.
    await call(stack.url, 'POST', '/v1/review/items/fd-0/claim', b.token);
    expect((await call(stack.url, 'GET', '/v1/review/items/fd-0', b.token)).body.decisions).toBeUndefined();
    const second = await call(stack.url, 'POST', '/v1/review/items/fd-0/decision', b.token, { decision: 'clear', reason: 'tyres' });
    expect(second.body).toMatchObject({ state: 'decided' });
  });

  it('disagreement escalates to a supervisor', async () => {
    await call(stack.url, 'POST', '/v1/review/items/fd-1/claim', a.token);
    await call(stack.url, 'POST', '/v1/review/items/fd-1/decision', a.token, { decision: 'clear', reason: 'looks fine' });
    await call(stack.url, 'POST', '/v1/review/items/fd-1/claim', b.token);
    const d = await call(stack.url, 'POST', '/v1/review/items/fd-1/decision', b.token, { decision: 'misdeclared', reason: 'two kinds of goods' });
    expect(d.body).toEqual({ state: 'escalated' });
    expect((await call<{ items: Array<{ scanId: string }> }>(stack.url, 'GET', '/v1/review/mine', sup.token)).body.items.map((i) => i.scanId)).toContain('fd-1');
    await call(stack.url, 'POST', '/v1/review/items/fd-1/claim', sup.token);
    expect((await call(stack.url, 'POST', '/v1/review/items/fd-1/decision', sup.token, { decision: 'misdeclared', reason: 'confirmed: two kinds' })).body).toMatchObject({ state: 'decided' });
  });
});

describe('verdict feed', () => {
  it('pages through every verdict event in order by cursor, and resumes from the last cursor', async () => {
    const all: FeedPage['items'] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await call<FeedPage>(stack.url, 'GET', `/v1/verdicts?limit=2${cursor ? `&after=${cursor}` : ''}`, risk.token);
      expect(r.status).toBe(200);
      all.push(...r.body.items);
      if (r.body.items.length === 0) break;
      cursor = r.body.nextCursor;
    }
    const stored = await stack.db.db.query<{ id: string | number }>('SELECT id FROM verdicts ORDER BY id');
    expect(all.map((v) => v.id).sort()).toEqual(stored.rows.map((r) => String(r.id)).sort());
    expect(new Set(all.map((v) => v.id)).size).toBe(all.length);
    // A new event after the last cursor is what the next read returns.
    await call(stack.url, 'POST', '/v1/inspections', risk.token, { scanId: 'fd-2', result: 'undeclared-goods', findings: 'cigarettes behind the tyres', labels: [{ label: 'cigarettes', box: [50, 10, 80, 40] }] });
    const next = await call<FeedPage>(stack.url, 'GET', `/v1/verdicts?after=${cursor}`, risk.token);
    expect(next.body.items.map((v) => [v.scanId, v.source, v.decision])).toEqual([['fd-2', 'inspection', 'hold']]);
    expect((await call<FeedPage>(stack.url, 'GET', `/v1/verdicts?after=${next.body.nextCursor}`, risk.token)).body.items).toEqual([]);
  });

  it('filters by decision, port and enterprise; refuses a bad cursor; reviewers may not read it', async () => {
    const holds = await call<FeedPage>(stack.url, 'GET', '/v1/verdicts?decision=hold&limit=100', risk.token);
    expect(holds.body.items.length).toBeGreaterThan(0);
    expect(holds.body.items.every((v) => v.decision === 'hold')).toBe(true);
    const port = await call<FeedPage>(stack.url, 'GET', '/v1/verdicts?port=CNTAO&limit=100', risk.token);
    expect(new Set(port.body.items.map((v) => v.scanId))).toEqual(new Set(['fd-0']));
    const ent = await call<FeedPage>(stack.url, 'GET', '/v1/verdicts?enterprise=ENT-77&limit=100', risk.token);
    expect(ent.body.items.map((v) => v.scanId).every((s) => s === 'fd-0')).toBe(true);
    expect((await call(stack.url, 'GET', '/v1/verdicts?after=abc', risk.token)).status).toBe(400);
    // cursors of the right shape past xid8 (2^64 - 1) or bigint (2^63 - 1): refused as such, not a 500 from the cast
    for (const after of ['99999999999999999999.1', '0.9999999999999999999']) {
      const r = await call<{ code: string }>(stack.url, 'GET', `/v1/verdicts?after=${after}`, risk.token);
      expect([r.status, r.body.code]).toEqual([400, 'FEED_QUERY_INVALID']);
    }
    expect((await call(stack.url, 'GET', '/v1/verdicts?after=18446744073709551615.9223372036854775807', risk.token)).status).toBe(200);
    expect((await call(stack.url, 'GET', '/v1/verdicts', a.token)).status).toBe(403);
  });
});

describe('inspections', () => {
  it('goods as declared: a clear inspection verdict and a reference candidate for the HS code', async () => {
    const r = await call<{ verdictId: string; decision: string; referenceCandidates: string[] }>(stack.url, 'POST', '/v1/inspections', sup.token, { scanId: 'fd-0', result: 'nothing', findings: 'tyres as declared' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ decision: 'clear', referenceCandidates: ['4011100000'] });
    expect(await inspectionsRepo(stack.db.db).referenceCandidates('4011100000')).toEqual([expect.objectContaining({ scanId: 'fd-0' })]);
    const history = await call<{ history: Array<{ source: string }> }>(stack.url, 'GET', '/v1/scans/fd-0', risk.token);
    expect(history.body.history.map((v) => v.source)).toEqual(['machine', 'reviewer', 'inspection']);
    expect((await call(stack.url, 'POST', '/v1/inspections', risk.token, { scanId: 'nope', result: 'nothing' })).status).toBe(404);
    expect((await call(stack.url, 'POST', '/v1/inspections', a.token, { scanId: 'fd-0', result: 'nothing' })).status).toBe(403);
  });
});

describe('statistics and exports', () => {
  it('supervisors and admins see queue depth, decisions and throughput', async () => {
    const s = await call<{ queueDepth: number; decisionsToday: number; reviewerThroughput: Array<{ reviewer: string; decisions: number }>; verdictsByHour: unknown[] }>(stack.url, 'GET', '/v1/stats', admin.token);
    expect(s.status).toBe(200);
    expect(s.body.queueDepth).toBe(1); // fd-2 is still undecided
    expect(s.body.decisionsToday).toBe(5);
    expect(s.body.reviewerThroughput).toEqual(expect.arrayContaining([{ reviewer: 'ada', decisions: 2 }, { reviewer: 'ben', decisions: 2 }, { reviewer: 'sol', decisions: 1 }]));
    expect((await call(stack.url, 'GET', '/v1/stats', risk.token)).status).toBe(403);
  });

  it('exports reviewer and inspection boxes as COCO and YOLO snapshots', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tw-labels-'));
    try {
      const coco = await exportLabels(stack.db.db, stack.objects, { format: 'coco', since: '2000-01-01T00:00:00Z', out });
      expect(coco).toMatchObject({ images: 2, annotations: 2 });
      const ann = JSON.parse(await readFile(join(coco.dir, 'annotations.json'), 'utf8')) as { categories: Array<{ name: string }>; annotations: Array<{ bbox: number[] }> };
      expect(ann.categories.map((c) => c.name)).toEqual(['cigarettes', 'tyre']);
      expect(ann.annotations.map((x) => x.bbox)).toEqual(expect.arrayContaining([[5, 5, 35, 25], [50, 10, 30, 30]]));
      expect((await readdir(join(coco.dir, 'images'))).sort()).toEqual(['fd-0.png', 'fd-2.png']);
      const yolo = await exportLabels(stack.db.db, stack.objects, { format: 'yolo', since: '2000-01-01T00:00:00Z', out });
      expect((await readFile(join(yolo.dir, 'labels', 'fd-2.txt'), 'utf8')).trim().split(' ')[0]).toBe('0');
      // The same labels export to the same version.
      expect((await exportLabels(stack.db.db, null, { format: 'yolo', since: '2000-01-01T00:00:00Z', out })).version).toBe(yolo.version);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('double-blind samples decided by a trainee', () => {
  it('the tier-A reviewer who confirmed the first decision has seen it, so may not be the second reviewer', async () => {
    const db = stack.db.db;
    const trainee = await makeUser(db, 'cai', 'reviewer', 'C');
    await pushAndRoute(stack.url, stack.key, db, 'fd-9', await containerNo('FED', 19), 49);
    await call(stack.url, 'POST', '/v1/review/items/fd-9/claim', trainee.token);
    expect((await call(stack.url, 'POST', '/v1/review/items/fd-9/decision', trainee.token, { decision: 'clear', reason: 'tyres' })).body).toEqual({ state: 'awaiting-confirmation' });
    expect((await call(stack.url, 'POST', '/v1/review/items/fd-9/confirm', a.token, { agree: true })).body).toMatchObject({ state: 'awaiting-second' });
    const again = await call(stack.url, 'POST', '/v1/review/items/fd-9/claim', a.token);
    expect([again.status, again.body.code]).toEqual([409, 'NOT_CLAIMABLE']);
    expect((await call(stack.url, 'POST', '/v1/review/items/fd-9/claim', b.token)).status).toBe(200);
  });
});

describe('a retried inspection result', () => {
  const send = (key: string | undefined, body: Record<string, unknown>) =>
    fetch(`${stack.url}/v1/inspections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${risk.token}`, 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
  const count = async () => {
    const i = await stack.db.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM inspections WHERE scan_id = 'fd-9'`);
    const v = await stack.db.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM verdicts WHERE scan_id = 'fd-9' AND source = 'inspection'`);
    return [Number(i.rows[0]!.n), Number(v.rows[0]!.n)];
  };

  it('with the same Idempotency-Key is recorded once and answered with the first result, even when two arrive at once', async () => {
    const body = { scanId: 'fd-9', result: 'undeclared-goods', findings: 'cigarettes behind the tyres' };
    const first = await send('insp-retry-1', body);
    expect(first.status).toBe(201);
    const answer = await first.json();
    const again = await send('insp-retry-1', body);
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(await again.json()).toEqual(answer);
    expect(await count()).toEqual([1, 1]);
    // the same key for something else is refused, and records nothing
    const other = await send('insp-retry-1', { ...body, result: 'nothing' });
    expect([other.status, ((await other.json()) as { code: string }).code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // two copies of one retry at the same moment: one records, the other answers as its retry
    const both = await Promise.all([send('insp-retry-2', { ...body, findings: 'second look' }), send('insp-retry-2', { ...body, findings: 'second look' })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 201]);
    const [a1, a2] = await Promise.all(both.map((r) => r.json()));
    expect(a1).toEqual(a2);
    expect(await count()).toEqual([2, 2]);
    // without a key, each request is an inspection of its own (as before)
    expect((await send(undefined, body)).status).toBe(201);
    expect(await count()).toEqual([3, 3]);
  });
});
