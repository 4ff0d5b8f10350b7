// One contract, both databases: every repository behaves the same on PostgreSQL and on embedded PGlite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../storage/db/migrate.js';
import { auditRepo } from '../../storage/repos/audit.js';
import { containersRepo, recordTare } from '../../storage/repos/containers.js';
import { enterprisesRepo } from '../../storage/repos/enterprises.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { outboxRepo } from '../../storage/repos/outbox.js';
import { outboxDeliveriesRepo } from '../../storage/repos/outbox-deliveries.js';
import { scansRepo, type NewScan } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import type { Verdict } from '../../domain/verdict.js';
import { DATABASES, type TestDb } from '../helpers/databases.js';

const newScan = (scanId: string, gatewayId: string, contentHash = 'h1'): NewScan => ({
  scanId,
  gatewayId,
  scannerId: 'H986-01',
  modality: 'container-xray',
  containerNo: 'CSQU3054383',
  capturedAt: '2026-11-23T08:00:00.000Z',
  weightKg: 20000,
  contentHash,
  images: [{ role: 'image', objectKey: `images/aa/${contentHash}.png`, format: 'png', width: 10, height: 10, channels: 1, bitDepth: 16, bytes: 100, sha256: contentHash }],
});

const verdict = (scanId: string, source: Verdict['source'] = 'machine'): Verdict => ({
  scanId,
  subject: { containerNo: 'CSQU3054383' },
  decision: 'review',
  reasons: [{ code: 'MODEL_UNAVAILABLE', layer: 'intake', decision: 'review', detail: 'no model' }],
  policyVersion: 'none',
  models: [],
  source,
  at: '2026-11-23T08:00:01.000Z',
});

describe.each(Object.keys(DATABASES) as Array<keyof typeof DATABASES>)('repositories on %s', (kind) => {
  let t: TestDb;
  let gatewayId: string;
  beforeAll(async () => {
    t = await DATABASES[kind]();
    gatewayId = (await gatewaysRepo(t.db).add('gw-a')).gateway.id;
  });
  afterAll(async () => t?.drop());

  it('migrations are idempotent', async () => {
    expect(await migrate(t.db)).toEqual([]);
  });

  it('gateway keys authenticate until revoked; names are unique; keys are stored hashed', async () => {
    const { key } = await gatewaysRepo(t.db).add('gw-b');
    expect((await gatewaysRepo(t.db).authenticate(key))?.name).toBe('gw-b');
    await expect(gatewaysRepo(t.db).add('gw-b')).rejects.toThrow(/already exists/);
    const raw = await t.db.query<{ key_hash: string }>(`SELECT key_hash FROM gateways WHERE name = 'gw-b'`);
    expect(raw.rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(raw.rows[0]!.key_hash).not.toContain(key.slice(4, 20));
    expect(await gatewaysRepo(t.db).revoke('gw-b')).toBe(true);
    expect(await gatewaysRepo(t.db).authenticate(key)).toBeNull();
  });

  it('the container register creates, replaces and reads a tare', async () => {
    const boxes = containersRepo(t.db);
    expect(await boxes.get('CSQU3054383')).toBeNull();
    const first = await t.db.transaction((tx) => containersRepo(tx).set({ containerNo: 'CSQU3054383', tareKg: 3_750.5, source: 'CSC plate', actor: 'tos' }));
    expect(first.before).toBeNull();
    expect(first.after).toMatchObject({ containerNo: 'CSQU3054383', tareKg: 3_750.5, source: 'CSC plate', updatedBy: 'tos' });
    const second = await t.db.transaction((tx) => containersRepo(tx).set({ containerNo: 'CSQU3054383', tareKg: 3_800, actor: 'decl' }));
    expect(second.before?.tareKg).toBe(3_750.5);
    expect(await boxes.get('CSQU3054383')).toMatchObject({ tareKg: 3_800, source: null, updatedBy: 'decl', createdAt: first.after.createdAt });
  });

  it('first writes of one box at the same instant take turns: one creation, each later one audited against the tare it replaced', async () => {
    const tares = [3_700, 3_710, 3_720, 3_730, 3_740];
    const results = await Promise.all(tares.map((tareKg) => recordTare(t.db, { containerNo: 'TGHU8765436', tareKg, actor: `w${tareKg}` })));
    expect(results.filter((r) => r.before === null)).toHaveLength(1);
    // the writes form one chain: every replaced tare is another write's, and the last write's is what is stored
    const replaced = results.map((r) => r.before?.tareKg ?? null).filter((x) => x !== null).sort();
    const stored = (await containersRepo(t.db).get('TGHU8765436'))!.tareKg;
    expect([...replaced, stored].sort()).toEqual(tares);
    const trail = (await auditRepo(t.db).list('container:TGHU8765436')).map((e) => (e.payload.detail as { from: number | null }).from);
    expect(trail.filter((f) => f === null)).toHaveLength(1);
    expect(trail).toHaveLength(5);
  });

  it("risk control's first settings of one enterprise at the same instant take turns: one creation", async () => {
    const levels = ['dishonest', 'ordinary', 'aeo-general'] as const;
    const results = await Promise.all(
      levels.map((creditLevel) => t.db.transaction((tx) => enterprisesRepo(tx).setByRiskControl(tx, { id: 'ENT-RACE', creditLevel, reason: 'audit', actor: 'rc' }))),
    );
    expect(results.filter((r) => r.before === null)).toHaveLength(1);
  });

  it('inserting a scan is idempotent on content and refuses other content under the same id', async () => {
    const scans = scansRepo(t.db);
    expect((await scans.insert(newScan('r-1', gatewayId))).outcome).toBe('created');
    expect((await scans.insert(newScan('r-1', gatewayId))).outcome).toBe('existing');
    const clash = await scans.insert(newScan('r-1', gatewayId, 'h2'));
    expect(clash.outcome).toBe('conflict');
    expect(clash.scan.images[0]!.sha256).toBe('h1');
  });

  it('reads a scan back with every image, ordered by role, as stored (a dual-energy pair sent low first)', async () => {
    const scans = scansRepo(t.db);
    const img = (role: 'high' | 'low', bytes: number) => ({ role, objectKey: `images/bb/${role}.png`, format: 'png' as const, width: 2048, height: 600, channels: 1, bitDepth: 16, bytes, sha256: `sha-${role}` });
    const pair: NewScan = { ...newScan('r-pair', gatewayId, 'hp'), images: [img('low', 3_000_000_000), img('high', 2_500_000)] };
    const created = await scans.insert(pair);
    expect(created.outcome).toBe('created');
    const back = await scans.get('r-pair');
    expect(back?.images).toEqual([img('high', 2_500_000), img('low', 3_000_000_000)]);
    expect(created.scan.images).toEqual(back?.images);
    expect([back?.status, back?.weightKg, back?.capturedAt]).toEqual(['received', 20000, '2026-11-23T08:00:00.000Z']);
    expect(await scans.get('r-none')).toBeNull();
  });

  it('concurrent pushes of one scan store one row', async () => {
    const scans = scansRepo(t.db);
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => scans.insert(newScan('r-concurrent', gatewayId))));
    expect(outcomes.filter((o) => o.outcome === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'existing')).toHaveLength(7);
    const n = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scan_images WHERE scan_id = 'r-concurrent'`);
    expect(n.rows[0]!.n).toBe(1);
  });

  it('keeps one machine verdict per scan, and appends reviewer verdicts as new events', async () => {
    await scansRepo(t.db).insert(newScan('r-v', gatewayId));
    const v = verdictsRepo(t.db);
    const a = await v.append(verdict('r-v'), 'machine');
    const b = await v.append(verdict('r-v'), 'machine');
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.verdict.id).toBe(a.verdict.id);
    await v.append({ ...verdict('r-v', 'reviewer'), decision: 'clear' }, 'reviewer-1');
    const history = await v.forScan('r-v');
    expect(history.map((h) => [h.source, h.decision])).toEqual([['machine', 'review'], ['reviewer', 'clear']]);
    const feed = await v.after(a.verdict.id, 10);
    expect(feed.map((f) => f.source)).toEqual(['reviewer']);
  });

  it('lists stalled scans until they are routed', async () => {
    const scans = scansRepo(t.db);
    await scans.insert(newScan('r-stall', gatewayId));
    await t.db.query(`UPDATE scans SET updated_at = now() - interval '1 hour' WHERE scan_id = 'r-stall'`);
    expect((await scans.findStalled(60_000, 100)).map((s) => s.scanId)).toContain('r-stall');
    await scans.markRouted('r-stall');
    expect((await scans.findStalled(0, 100)).map((s) => s.scanId)).not.toContain('r-stall');
  });

  it('fans verdict events out in one pass: webhook rows in the events\' order, the events marked done, a retried pass adds nothing', async () => {
    const o = outboxRepo(t.db);
    const d = outboxDeliveriesRepo(t.db);
    for (const k of [1, 2, 3]) await o.add('verdict', `verdict.fo-${k}`, { scanId: `fo-${k}`, decision: k === 2 ? 'clear' : 'hold' });
    const mine = async () => (await d.pendingVerdicts(200)).filter((v) => String((v.payload as { scanId?: string }).scanId).startsWith('fo-'));
    const events = await mine();
    expect(events).toHaveLength(3);
    // subscription a takes every decision, b only holds
    const plan = events.map((v) => ({
      verdictRowId: v.id,
      deliveries: (v.payload.decision === 'hold' ? ['a', 'b'] : ['a']).map((sub) => ({ subscriptionId: sub, payload: v.payload })),
    }));
    await d.fanOut(plan);
    await d.fanOut(plan); // a pass retried after its commit went unseen
    await d.fanOut([]);
    const rows = await t.db.query<{ dedupe_key: string; destination: string }>(`SELECT dedupe_key, destination FROM outbox WHERE topic = 'webhook' AND dedupe_key LIKE 'webhook.%' ORDER BY id`);
    const [e1, e2, e3] = events.map((e) => e.id);
    expect(rows.rows.map((r) => [r.dedupe_key, r.destination])).toEqual([
      [`webhook.a.${e1}`, 'sub:a'], [`webhook.b.${e1}`, 'sub:b'], [`webhook.a.${e2}`, 'sub:a'], [`webhook.a.${e3}`, 'sub:a'], [`webhook.b.${e3}`, 'sub:b'],
    ]);
    expect(await mine()).toEqual([]);
  });

  it('outbox deduplicates, delivers in order, retries and dead-letters', async () => {
    const o = outboxRepo(t.db);
    await o.add('lock', 'lock.s1', { n: 1 });
    await o.add('lock', 'lock.s1', { n: 1 });
    await o.add('lock', 'lock.s2', { n: 2 });
    const due = await o.due(10, ['lock']);
    expect(due.map((m) => m.dedupeKey)).toEqual(['lock.s1', 'lock.s2']);
    await o.failed(due[0]!.id, 'receiver down', 60_000);
    expect((await o.due(10, ['lock'])).map((m) => m.dedupeKey)).toEqual(['lock.s2']);
    await o.delivered(due[1]!.id);
    await o.failed(due[0]!.id, 'gave up', null);
    expect(await o.due(10, ['lock'])).toEqual([]);
  });
});
