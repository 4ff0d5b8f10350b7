// On real PostgreSQL: concurrent claims (exactly one wins), lease expiry, the lock state machine in the
// database, and the audit chain — concurrent appends never fork it; an edited or deleted row is found,
// also by `npm run cli -- audit verify`.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reason } from '../../domain/verdict.js';
import { auditRepo } from '../../storage/repos/audit.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { holdsRepo, LockTransitionError } from '../../storage/repos/holds.js';
import { reviewRepo } from '../../storage/repos/review.js';
import { usersRepo } from '../../storage/repos/users.js';
import { postgresTestDb, type TestDb } from '../helpers/databases.js';

let t: TestDb;
let gatewayId: string;
const userIds: string[] = [];

beforeAll(async () => {
  t = await postgresTestDb();
  gatewayId = (await gatewaysRepo(t.db).add('gw')).gateway.id;
  const users = usersRepo(t.db);
  for (let i = 0; i < 12; i++) userIds.push((await users.add({ username: `r${i}`, role: 'reviewer', tier: 'B', password: 'x'.repeat(12) })).id);
});
afterAll(async () => t?.drop());

/** A scan with a machine `review` verdict and its queue item, straight in the database. */
async function seedItem(scanId: string): Promise<void> {
  await t.db.query(
    `INSERT INTO scans (scan_id, gateway_id, scanner_id, modality, container_no, captured_at, content_hash, status, routed_at)
     VALUES ($1, $2, 'H986', 'container-xray', 'CSQU3054383', now(), 'h', 'assessed', now())`,
    [scanId, gatewayId],
  );
  const reasons: Reason[] = [{ code: 'MODEL_UNAVAILABLE', layer: 'policy', decision: 'review', detail: 'no model' }];
  const v = await t.db.query<{ id: string }>(
    `INSERT INTO verdicts (scan_id, source, actor, decision, policy_version, body) VALUES ($1, 'machine', 'machine', 'review', 'p1', $2) RETURNING id`,
    [scanId, JSON.stringify({ scanId, subject: { containerNo: 'CSQU3054383' }, decision: 'review', reasons, policyVersion: 'p1', models: [], source: 'machine', at: new Date().toISOString() })],
  );
  await t.db.transaction((tx) => reviewRepo(t.db).create(tx, { scanId, machineVerdictId: String(v.rows[0]!.id), decision: 'review', reasons, perishable: false, enqueuedAt: new Date().toISOString() }));
}

describe('claims on PostgreSQL', () => {
  it('twelve reviewers claiming the same item at once: exactly one wins, every time', async () => {
    const review = reviewRepo(t.db);
    for (let round = 0; round < 5; round++) {
      const scanId = `claim-${round}`;
      await seedItem(scanId);
      const results = await Promise.all(userIds.map((id) => review.claim(scanId, { id, role: 'reviewer' }, 60_000)));
      const winners = results.filter((r) => r.outcome === 'claimed');
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'taken')).toHaveLength(userIds.length - 1);
      const holder = (await review.get(scanId))!.claimedById;
      expect(userIds[results.findIndex((r) => r.outcome === 'claimed')]).toBe(holder);
    }
  });

  it('an expired lease returns the item: another reviewer claims it, the expiry sweep clears it', async () => {
    const review = reviewRepo(t.db);
    await seedItem('lease-1');
    expect((await review.claim('lease-1', { id: userIds[0]!, role: 'reviewer' }, 150)).outcome).toBe('claimed');
    expect((await review.claim('lease-1', { id: userIds[1]!, role: 'reviewer' }, 150)).outcome).toBe('taken');
    await new Promise((r) => setTimeout(r, 200));
    expect(await review.renew('lease-1', userIds[0]!, 150)).toBeNull();
    expect((await review.expireLeases()).map((e) => e.scanId)).toContain('lease-1');
    expect((await review.get('lease-1'))!.claimedById).toBeNull();
    expect((await review.claim('lease-1', { id: userIds[1]!, role: 'reviewer' }, 60_000)).outcome).toBe('claimed');
  });
});

describe('lock instructions', () => {
  it('refuse illegal transitions and keep the state; the first transition is recorded', async () => {
    await seedItem('lock-1');
    const holds = holdsRepo(t.db);
    const id = (await t.db.transaction((tx) => holds.request(tx, { scanId: 'lock-1', containerNo: 'CSQU3054383', reasons: ['THREAT_DETECTED'], actor: 'machine' })))!;
    expect(await t.db.transaction((tx) => holds.request(tx, { scanId: 'lock-1', containerNo: 'CSQU3054383', reasons: [], actor: 'machine' }))).toBeNull();
    await expect(holds.transition(id, [{ type: 'start-inspection' }], 'sup')).rejects.toMatchObject({ code: 'LOCK_TRANSITION_ILLEGAL' });
    await expect(holds.transition(id, [{ type: 'send' }, { type: 'acknowledge' }, { type: 'start-inspection' }, { type: 'release', role: 'reviewer', reason: 'x' }], 'x')).rejects.toBeInstanceOf(LockTransitionError);
    // All or nothing: the refused release rolled back the steps before it.
    expect((await holds.get(id))!.state).toBe('requested');
    const done = await holds.transition(id, [{ type: 'send' }, { type: 'acknowledge' }, { type: 'start-inspection' }, { type: 'seize', role: 'supervisor', reason: 'ivory' }], 'sup');
    expect(done.state).toBe('seized');
    expect((await holds.gate('CSQU3054383')).mayLeave).toBe(false);
  });
});

describe('audit chain', () => {
  it('concurrent appends from many transactions form one unbroken chain', async () => {
    const audit = auditRepo(t.db);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.db.transaction((tx) => audit.append(tx, { actor: `u${i % 3}`, action: 'review.decision', subject: `scan:s${i}`, detail: { n: i, nested: { b: 1, a: [1, 2] } } }))),
    );
    const check = await audit.verify();
    expect(check).toMatchObject({ ok: true });
    const seqs = (await audit.list()).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('a rolled-back append leaves no gap', async () => {
    const audit = auditRepo(t.db);
    await expect(
      t.db.transaction(async (tx) => {
        await audit.append(tx, { actor: 'x', action: 'review.decision', subject: 'scan:rollback', detail: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('`audit verify` finds an edited row (exit 1) and a deleted row; intact is exit 0', async () => {
    const run = promisify(execFile);
    const cli = (env: Record<string, string>) =>
      run(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'audit', 'verify'], { env: { ...process.env, ...env, DATABASE_URL: t.url!, LOG_LEVEL: 'silent' } }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
      );
    const intact = await cli({});
    expect(intact.code, intact.out).toBe(0);
    expect(intact.out).toContain('audit chain intact');

    const original = (await t.db.query<{ detail: unknown }>('SELECT detail FROM audit_log WHERE seq = 5')).rows[0]!.detail;
    await t.db.query(`UPDATE audit_log SET detail = jsonb_set(detail, '{n}', '999') WHERE seq = 5`);
    const edited = await cli({});
    expect(edited.code).toBe(1);
    expect(edited.out).toContain('AUDIT_HASH_MISMATCH');
    const audit = auditRepo(t.db);
    expect(await audit.verify()).toMatchObject({ ok: false, seq: 5, code: 'AUDIT_HASH_MISMATCH' });

    // Put the row back as it was: the chain holds again; then delete a middle row.
    await t.db.query('UPDATE audit_log SET detail = $1 WHERE seq = 5', [JSON.stringify(original)]);
    expect((await audit.verify()).ok).toBe(true);
    await t.db.query('DELETE FROM audit_log WHERE seq = 7');
    expect(await audit.verify()).toMatchObject({ ok: false, code: 'AUDIT_SEQUENCE_GAP' });
  });

  it('a deleted last row is found through the recorded head', async () => {
    const db2 = await postgresTestDb();
    try {
      const audit = auditRepo(db2.db);
      for (let i = 0; i < 3; i++) await db2.db.transaction((tx) => audit.append(tx, { actor: 'a', action: 'lock.released', subject: 'lock:x', detail: { i } }));
      expect((await audit.verify()).ok).toBe(true);
      await db2.db.query('DELETE FROM audit_log WHERE seq = 3');
      expect(await audit.verify()).toMatchObject({ ok: false, code: 'AUDIT_HEAD_MISMATCH' });
    } finally {
      await db2.drop();
    }
  });
});
