// `npm run cli -- user reset-password <username>`: an administrator's way back in for a locked-out user.
// The old password and every session signed in with it stop working; the new one works.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { usersRepo } from '../../storage/repos/users.js';
import { postgresTestDb, type TestDb } from '../helpers/databases.js';

const run = promisify(execFile);
let t: TestDb;
beforeAll(async () => {
  t = await postgresTestDb();
});
afterAll(async () => {
  await t?.drop();
});

const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'user', ...args], { env: { ...process.env, DATABASE_URL: t.url!, LOG_LEVEL: 'silent' } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

it('user reset-password prints a new password, ends the old sessions and the old password', { timeout: 60_000 }, async () => {
  const users = usersRepo(t.db);
  const user = await users.add({ username: 'rita', role: 'reviewer', tier: 'B', password: 'old-password-1' });
  const session = await users.createSession(user.id, 60_000);
  expect((await users.userForSession(session.token))?.username).toBe('rita');

  const res = await cli('reset-password', 'rita');
  expect(res.code).toBe(0);
  const password = /^password: (\S+)$/m.exec(res.out)?.[1];
  expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);

  expect(await users.userForSession(session.token)).toBeNull();
  expect((await users.checkPassword('rita', 'old-password-1')).outcome).toBe('failed');
  expect((await users.checkPassword('rita', password!)).outcome).toBe('ok');

  const missing = await cli('reset-password', 'nobody');
  expect(missing.code).toBe(1);
  expect(missing.err).toContain('no user named nobody');
});
