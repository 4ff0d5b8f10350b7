// Sign-in attempts on both databases: lockouts read from the stored attempts (per address, per account),
// a new password ends a lockout, and every write prunes attempts older than the longest window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAttemptsRepo, type LoginThrottleRules } from '../../storage/repos/login-attempts.js';
import { usersRepo } from '../../storage/repos/users.js';
import { DATABASES, type TestDb } from '../helpers/databases.js';

const rules: LoginThrottleRules = { maxFailures: 2, accountMaxFailures: 4, lockoutMs: 60_000, failureWindowMs: 120_000, rateLimit: 100, rateWindowMs: 30_000 };

describe.each(Object.keys(DATABASES) as Array<keyof typeof DATABASES>)('login attempts on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await DATABASES[kind]();
  });
  afterAll(async () => t?.drop());

  it('locks the account for one address, then for every address when several fail', async () => {
    const repo = loginAttemptsRepo(t.db, rules);
    expect(await repo.recordFailure('10.0.0.1', 'alice')).toMatchObject({ locked: false, addressFailures: 1, accountFailures: 1 });
    const locked = await repo.recordFailure('10.0.0.1', 'alice');
    expect(locked).toMatchObject({ locked: true, scope: 'address' });
    expect(await repo.lockout('alice', '10.0.0.1')).toMatchObject({ locked: true, scope: 'address' });
    expect(await repo.lockout('alice', '10.0.0.2')).toMatchObject({ locked: false, accountFailures: 2 });
    // Refused attempts count for the address's rate limit but never towards a lockout.
    for (let i = 0; i < 5; i++) await repo.record('10.0.0.1', 'alice', 'refused');
    expect(await repo.lockout('alice', '10.0.0.2')).toMatchObject({ locked: false, accountFailures: 2 });
    expect((await repo.fromAddress('10.0.0.1')).count).toBe(7);
    // Another user is untouched by alice's failures.
    expect(await repo.lockout('bob', '10.0.0.1')).toMatchObject({ locked: false, addressFailures: 0, accountFailures: 0 });
    await repo.recordFailure('10.0.0.2', 'alice');
    expect(await repo.recordFailure('10.0.0.3', 'alice')).toMatchObject({ locked: true, scope: 'account' });
    expect(await repo.lockout('alice', '10.9.9.9')).toMatchObject({ locked: true, scope: 'account' });
  });

  it('a new password ends the lockout; user list shows the account lockout until then', async () => {
    const users = usersRepo(t.db);
    await users.add({ username: 'carol', role: 'reviewer', tier: 'B', password: 'first-password' });
    const repo = loginAttemptsRepo(t.db, { ...rules, accountMaxFailures: 2 });
    await repo.recordFailure('10.0.0.1', 'carol');
    expect(await repo.recordFailure('10.0.0.1', 'carol')).toMatchObject({ locked: true, scope: 'account' });
    expect((await users.list()).find((u) => u.username === 'carol')!.lockedUntil).not.toBeNull();
    await users.setPassword('carol', 'second-password');
    expect(await repo.lockout('carol', '10.0.0.1')).toMatchObject({ locked: false, addressFailures: 0, accountFailures: 0 });
    expect((await users.list()).find((u) => u.username === 'carol')!.lockedUntil).toBeNull();
  });

  it('a new password signs the old sessions out; an unknown user changes nothing', async () => {
    const users = usersRepo(t.db);
    const dave = await users.add({ username: 'dave', role: 'reviewer', password: 'first-password' });
    const { token } = await users.createSession(dave.id, 60_000);
    expect((await users.userForSession(token))?.username).toBe('dave');
    expect(await users.setPassword('dave', 'second-password')).toBe(true);
    expect(await users.userForSession(token)).toBeNull();
    expect(await users.checkPassword('dave', 'second-password')).toMatchObject({ outcome: 'ok' });
    expect(await users.checkPassword('dave', 'first-password')).toMatchObject({ outcome: 'failed' });

    const before = await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM login_attempts WHERE outcome = 'reset'`);
    expect(await users.setPassword('nobody-here', 'whatever-password')).toBe(false);
    const after = await t.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM login_attempts WHERE outcome = 'reset'`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('prunes attempts older than the longest window on every write', async () => {
    const repo = loginAttemptsRepo(t.db, rules); // longest window: the 120 s failure window
    await t.db.query(
      `INSERT INTO login_attempts (ip, username, ok, outcome, at) VALUES
         ('10.1.0.1', 'old', false, 'failed', now() - interval '3 minutes'),
         ('10.1.0.1', 'old', false, 'failed', now() - interval '1 day'),
         ('10.1.0.1', 'recent', false, 'failed', now() - interval '90 seconds')`,
    );
    await repo.record('10.1.0.2', 'dave', 'ok');
    const left = await t.db.query<{ username: string }>(`SELECT username FROM login_attempts WHERE ip LIKE '10.1.0.%' ORDER BY id`);
    expect(left.rows.map((r) => r.username)).toEqual(['recent', 'dave']);
    expect(await t.db.query(`SELECT 1 FROM login_attempts WHERE at < now() - interval '120 seconds'`)).toMatchObject({ rows: [] });
  });
});
