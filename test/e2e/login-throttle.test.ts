// Sign-in limits over HTTP, from several real source addresses (127.0.0.x: every loopback address reaches
// the API, and the API sees each as its own client address). One address failing against accounts locks
// them only for itself; failures from many addresses lock the account for everyone; each address is still
// rate-limited on its own.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersRepo } from '../../storage/repos/users.js';
import { makeUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({
    database: 'postgres',
    workers: false,
    env: { LOGIN_MAX_FAILURES: '3', LOGIN_ACCOUNT_MAX_FAILURES: '6', LOGIN_LOCKOUT_MS: '60000', LOGIN_RATE_LIMIT: '8', LOGIN_RATE_WINDOW_MS: '60000' },
  });
  for (const name of ['victim', 'ursula', 'ulrich', 'target']) await makeUser(stack.db.db, name, 'reviewer', 'B');
});
afterAll(async () => stack?.close());

interface LoginAnswer {
  status: number;
  code?: string;
  scope?: string;
  retryAfter?: string;
}

/** POST /v1/auth/login from the given local address. */
function login(from: string, username: string, password = 'wrong-password'): Promise<LoginAnswer> {
  const url = new URL('/v1/auth/login', stack.url);
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const json = JSON.parse(text) as { code?: string; details?: { scope?: string } };
          resolve({ status: res.statusCode!, ...(json.code && { code: json.code }), ...(json.details?.scope && { scope: json.details.scope }), ...(res.headers['retry-after'] && { retryAfter: String(res.headers['retry-after']) }) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const right = (username: string) => `pw-${username}-secret`;

describe('sign-in limits keyed on the account and the address', () => {
  it('failures from one address lock the account for that address only', async () => {
    expect(await login('127.0.0.2', 'victim')).toMatchObject({ status: 401, code: 'LOGIN_FAILED' });
    expect(await login('127.0.0.2', 'victim')).toMatchObject({ status: 401, code: 'LOGIN_FAILED' });
    expect(await login('127.0.0.2', 'victim')).toMatchObject({ status: 423, code: 'ACCOUNT_LOCKED', scope: 'address' });
    // Even the right password is refused from the attacking address...
    expect(await login('127.0.0.2', 'victim', right('victim'))).toMatchObject({ status: 423, code: 'ACCOUNT_LOCKED' });
    // ...while the owner signs in from elsewhere.
    expect((await login('127.0.0.3', 'victim', right('victim'))).status).toBe(200);
  });

  it('one address cannot lock every user out, and is rate-limited on its own', async () => {
    for (const user of ['ursula', 'ulrich']) {
      expect((await login('127.0.0.4', user)).status).toBe(401);
      expect((await login('127.0.0.4', user)).status).toBe(401);
      expect(await login('127.0.0.4', user)).toMatchObject({ status: 423, scope: 'address' });
    }
    // Turned away while locked: these never count towards locking the account for others.
    expect((await login('127.0.0.4', 'ursula')).status).toBe(423);
    expect((await login('127.0.0.4', 'ursula')).status).toBe(423);
    // 8 attempts from the address in the window: the next is rate-limited whatever the account.
    expect(await login('127.0.0.4', 'target', right('target'))).toMatchObject({ status: 429, code: 'LOGIN_RATE_LIMITED' });
    expect(Number((await login('127.0.0.4', 'target')).retryAfter)).toBeGreaterThan(0);
    // The users themselves, from their own addresses, are not locked out.
    expect((await login('127.0.0.5', 'ursula', right('ursula'))).status).toBe(200);
    expect((await login('127.0.0.6', 'ulrich', right('ulrich'))).status).toBe(200);
  });

  it('a distributed attack on one account locks it for every address', async () => {
    // Two failures from each of three addresses: no address reaches its own limit of 3.
    const answers: LoginAnswer[] = [];
    for (const from of ['127.0.0.10', '127.0.0.11', '127.0.0.12']) {
      answers.push(await login(from, 'target'));
      answers.push(await login(from, 'target'));
    }
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(answers[5]).toMatchObject({ status: 423, code: 'ACCOUNT_LOCKED', scope: 'account' });
    // Locked everywhere, the owner's right password included.
    expect(await login('127.0.0.20', 'target', right('target'))).toMatchObject({ status: 423, code: 'ACCOUNT_LOCKED', scope: 'account' });
    // An administrator's new password ends the lockout.
    await usersRepo(stack.db.db).setPassword('target', 'a-new-password');
    expect((await login('127.0.0.20', 'target', 'a-new-password')).status).toBe(200);
  });

  it('unknown usernames lock the same way, so a lockout does not tell which accounts exist', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await login('127.0.0.30', 'nobody-here')).status);
    expect(statuses).toEqual([401, 401, 423]);
  });
});
